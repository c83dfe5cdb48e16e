import { useEffect, useState } from 'preact/hooks'
import { Actions } from './actions.js'
import { getToken, onUnauthorized, setToken } from './api.js'
import { html } from './html.js'
import { Login } from './login.js'
import { Overview } from './overview.js'
import { Rooms, RoomView } from './rooms.js'
import { UserView } from './user.js'
import { Users } from './users.js'

const route = (): string => location.hash.replace(/^#/, '') || '/'

/** Login, then the views by hash route: `#/`, `#/users`, `#/users/<uid>`, `#/rooms`, `#/rooms/<room>`, `#/actions`. */
export function App (): ReturnType<typeof html> {
  const [loggedIn, setLoggedIn] = useState(getToken() !== null)
  const [notice, setNotice] = useState<string | undefined>(undefined)
  const [path, setPath] = useState(route())

  useEffect(() => {
    const onHash = (): void => setPath(route())
    addEventListener('hashchange', onHash)
    const off = onUnauthorized(() => { setToken(null); setNotice('The admin token was refused; log in again.'); setLoggedIn(false) })
    return () => { removeEventListener('hashchange', onHash); off() }
  }, [])

  if (!loggedIn) return html`<${Login} notice=${notice} onLogin=${() => { setNotice(undefined); setLoggedIn(true) }} />`

  const user = /^\/users\/(.+)$/.exec(path)
  // A malformed escape in the hash (#/users/%E0%A4%A) shows the overview instead of throwing URIError.
  const uid = user === null ? undefined : (() => { try { return decodeURIComponent(user[1]) } catch { return undefined } })()
  const roomPath = /^\/rooms\/(.+)$/.exec(path)
  const room = roomPath === null ? undefined : (() => { try { return decodeURIComponent(roomPath[1]) } catch { return undefined } })()
  const view = uid !== undefined
    ? html`<${UserView} key=${user![1]} uid=${uid} />`
    : room !== undefined
      ? html`<${RoomView} key=${roomPath![1]} room=${room} />`
      : path === '/users' ? html`<${Users} />` : path === '/rooms' ? html`<${Rooms} />` : path === '/actions' ? html`<${Actions} />` : html`<${Overview} />`
  const tab = (href: string, label: string, active: boolean): ReturnType<typeof html> =>
    html`<a href=${href} class=${active ? 'active' : ''} aria-current=${active ? 'page' : undefined}>${label}</a>`

  return html`<div class="shell">
    <header>
      <strong>fastify-gate</strong>
      <nav>
        ${tab('#/', 'Overview', path === '/')}
        ${tab('#/users', 'Users', path.startsWith('/users'))}
        ${tab('#/rooms', 'Rooms', path.startsWith('/rooms'))}
        ${tab('#/actions', 'Actions', path === '/actions')}
      </nav>
      <button type="button" name="logout" onClick=${() => { setToken(null); setLoggedIn(false) }}>Log out</button>
    </header>
    <main>${view}</main>
  </div>`
}
