// The demo chat page of the example app: the client SDK from the gate's
// prebuilt bundle (admin: { client: true }), the example's messages
// (docs/protocol.md section 6).
import { createClient, loadCodec, LoginRefused, webSocket } from '/gate/client.js'

const $ = (selector) => document.querySelector(selector)
const status = $('#status')
const log = $('#log')
let client
let uid = ''
/** The rooms this page watches: rejoined by the login hook after every reconnect. */
let rooms = []

function line (text, kind = 'message', data = {}) {
  const li = document.createElement('li')
  li.className = kind
  li.textContent = text
  for (const [k, v] of Object.entries(data)) li.dataset[k] = v
  log.append(li)
}

/** After every login: was everything missed while away replayed (docs/client.md, Resume)? */
function showResume (r) {
  const el = $('#resume')
  el.dataset.recovered = String(r.recovered)
  el.dataset.position = r.position
  if (r.from === '') el.textContent = `new session, at ${r.position || 'no position'}`
  else if (r.recovered) el.textContent = `resumed from ${r.from}: nothing missed (now at ${r.position})`
  else el.textContent = `resumed from ${r.from}: some messages may be missing (now at ${r.position})`
  if (r.from !== '') line(el.textContent, 'system')
}

function showState (s) {
  status.dataset.status = s.status
  status.dataset.code = 'code' in s ? String(s.code) : ''
  if (s.status === 'connected') status.textContent = `connected as ${uid}`
  else if (s.status === 'connecting') status.textContent = s.attempt === 0 ? 'connecting…' : `connecting (retry ${s.attempt})…`
  else if (s.status === 'reconnecting') status.textContent = `connection lost (${s.code} ${s.reason}); retry ${s.attempt} in ${s.delay} ms`
  else if (s.status === 'disconnected') status.textContent = `disconnected: ${s.code} ${s.reason}`
  if (s.status === 'reconnecting' || s.status === 'disconnected') line(status.textContent, 'system')
}

async function tokenFor (uid, pasted) {
  if (pasted) return pasted
  const res = await fetch(`/demo/token?uid=${encodeURIComponent(uid)}`)
  if (!res.ok) throw new Error('no dev token route (GATE_TOKEN_SECRET is set): paste a token from `npm run token -- <uid>`')
  return (await res.json()).token
}

async function connect (as, pasted) {
  client?.close()
  uid = as
  const token = await tokenFor(uid, pasted)
  const codec = await loadCodec('/gate/protocol')
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws'
  // The position is kept per uid for this tab, so a reload resumes too.
  const key = `gate-demo-position:${uid}`
  client = createClient({
    transport: webSocket(`${scheme}://${location.host}/ws`),
    codec,
    heartbeat: { name: 'C2S_UserHeartBeat', body: () => ({ ptime: Math.floor(Date.now() / 1000) }), interval: 20000 },
    reconnect: { initialDelay: 250, maxDelay: 5000 },
    resume: { store: { get: () => sessionStorage.getItem(key), set: (pos) => sessionStorage.setItem(key, pos) } },
    login: async (session) => {
      // resume_pos: what this tab saw last; the messages sent to this uid since then come first, then the answer
      session.send('C2S_UserLogin', { token, login_plat: 3, resume_pos: session.position })
      const answer = await session.next('S2C_UserLogin')
      if (answer.ret !== 1) throw new LoginRefused(answer.msg)
      if (rooms.length > 0) {
        session.send('C2S_UpdateWatchRoom', { rooms })
        await session.next('S2C_UpdateWatchRoom')
      }
      return answer // the client reads `recovered` and `gate_pos` from it
    }
  })
  client.onState(showState)
  client.onResume(showResume)
  client.on('S2C_Message', (m) => {
    const where = m.room ? `#${m.room}` : `to ${m.to_uid}`
    const replayed = client.state.status !== 'connected'
    line(`${m.from_uid} (${where}): ${m.content}${replayed ? ' (missed while away)' : ''}`, 'message', { from: m.from_uid, room: m.room ?? '', content: m.content, pos: m.gate_pos ?? '', replayed: String(replayed) })
  })
  client.on('S2C_UpdateWatchRoom', (m) => { $('#watching').textContent = m.rooms.length ? `watching ${m.rooms.join(', ')}` : '' })
  client.on('S2C_Error', (m) => line(`error ${m.code}: ${m.msg}`, 'system'))
  await client.connect().catch(() => {})
}

$('#login').addEventListener('submit', (e) => {
  e.preventDefault()
  const form = new FormData(e.target)
  connect(String(form.get('uid')).trim(), String(form.get('token')).trim()).catch((err) => line(err.message, 'system'))
})

$('#disconnect').addEventListener('click', () => client?.close())

$('#rooms').addEventListener('submit', (e) => {
  e.preventDefault()
  rooms = String(new FormData(e.target).get('rooms')).split(',').map(r => r.trim()).filter(Boolean)
  if (client?.state.status === 'connected') client.send('C2S_UpdateWatchRoom', { rooms })
})

$('#say').addEventListener('submit', (e) => {
  e.preventDefault()
  const form = new FormData(e.target)
  const to = String(form.get('to')).trim()
  const room = String(form.get('room')).trim()
  const content = String(form.get('content'))
  if (!client || (!to && !room)) return line('connect first, and give a uid or a room', 'system')
  try {
    client.send('C2S_Message', { ...(to ? { to_uid: to } : {}), ...(room ? { room } : {}), content })
    line(`me → ${to || '#' + room}: ${content}`, 'sent')
    e.target.elements.content.value = ''
  } catch (err) {
    line(`not sent: ${err.message}`, 'system')
  }
})

// ?uid=bob prefills the form (handy for a second tab)
const params = new URLSearchParams(location.search)
if (params.get('uid')) $('#login').elements.uid.value = params.get('uid')
