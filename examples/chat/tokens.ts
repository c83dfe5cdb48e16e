import { createSigner, createVerifier } from 'fast-jwt'
import { UID_MAX_LENGTH } from './messages.js'

/**
 * Login tokens: JWTs signed HS256; `sub` is the uid; `exp`, when present, is honoured.
 * `expiresInSeconds` 0 or absent: no `exp`. `clockTimestamp` (unix ms) signs as of
 * another time, for tests.
 */
export function tokenSigner (secret: string, expiresInSeconds?: number, clockTimestamp?: number): (uid: string) => string {
  const sign = createSigner({
    key: secret,
    algorithm: 'HS256',
    ...(expiresInSeconds ? { expiresIn: expiresInSeconds * 1000 } : {}),
    ...(clockTimestamp === undefined ? {} : { clockTimestamp })
  })
  return uid => sign({ sub: uid })
}

/** Returns the uid of a valid token, or throws (bad signature, expired, no `sub`). */
export function tokenVerifier (secret: string): (token: string) => string {
  const verify = createVerifier({ key: secret, algorithms: ['HS256'], cache: true })
  return token => {
    const claims = verify(token) as { sub?: unknown }
    // A lone surrogate is refused too: it would collide with U+FFFD in a Redis key (src/identity.ts).
    if (typeof claims.sub !== 'string' || claims.sub.length === 0 || claims.sub.length > UID_MAX_LENGTH || /\p{Surrogate}/u.test(claims.sub)) {
      throw new Error('the token has no valid "sub" (uid)')
    }
    return claims.sub
  }
}
