import { useState } from 'preact/hooks'
import { api, ApiError, setToken } from './api.js'
import { html } from './html.js'

/** The login form: the token is checked against `GET /stats` before it is kept. */
export function Login ({ onLogin, notice }: { onLogin: () => void, notice?: string }): ReturnType<typeof html> {
  const [token, setValue] = useState('')
  const [error, setError] = useState<string | undefined>(notice)
  const [busy, setBusy] = useState(false)

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault()
    setBusy(true)
    setError(undefined)
    try {
      await api('/stats', undefined, token.trim())
      setToken(token.trim())
      onLogin()
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? 'Wrong admin token.' : `Cannot reach the admin API: ${(err as Error).message}`)
    } finally {
      setBusy(false)
    }
  }

  return html`
    <main class="login">
      <h1>fastify-gate</h1>
      <form onSubmit=${submit} autocomplete="off">
        <label for="token">Admin token</label>
        <input id="token" name="token" type="password" value=${token} required
          onInput=${(e: Event) => setValue((e.target as HTMLInputElement).value)} />
        <button type="submit" disabled=${busy}>Log in</button>
        ${error !== undefined && html`<p class="error" role="alert">${error}</p>`}
      </form>
      <p class="hint">The token is kept in this tab only (sessionStorage) and sent in the Authorization header.</p>
    </main>`
}
