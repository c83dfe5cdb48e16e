// The demo chat page of the example app: the client SDK from the gate's
// prebuilt bundle (admin: { client: true }), the example's messages
// (docs/protocol.md section 6), and a route of the example (examples/chat/demo.ts):
// /demo/limits (what a message may hold). Rooms are subscriptions (client.subscribe,
// with the server's canJoin), and who is here is a request (C2S_Online).
import { codecFor, createClient, fetchProtocol, LoginRefused, webSocket } from '/gate/client.js'

const $ = (selector) => document.querySelector(selector)
const status = $('#status')
const log = $('#log')
const say = $('#say')
/** Default uids: each new tab takes the next, so a second tab is not the first user again. */
const NAMES = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi']
/** What the close codes of docs/protocol.md section 4 mean, in words. */
const CLOSES = { 1000: 'closed', 1001: 'the server is going away', 1006: 'the connection dropped', 1007: 'the server refused a message', 1008: 'refused by the server', 1009: 'a message was too large', 1013: 'the server is busy', 4001: 'kicked', 4002: 'logged in elsewhere', 4003: 'login refused', 4004: 'too slow to read' }
const ONLINE_EVERY = 5000

let client
let uid = ''
let token = ''
/** The rooms this page subscribes to (client.subscribe, again after every reconnect), lobby by default. */
let rooms = ['lobby']
/** The rooms the server says this connection is in. */
let joined = []
/** From the server: the message schemas' limits (/demo/limits) and maxMsgLen (/gate/protocol). */
let limits = { content: 0, uid: 64, room: 64, rooms: 64 }
let maxMsgLen = 0
let online = new Set()
let onlineTimer
/** Messages to this uid replayed by the current login (delivered before the login answer). */
let replayed = 0
/** Room messages replayed by the current login's room resumes, by room. */
const roomReplayed = new Map()

const timeOf = (ms) => new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })

function element (tag, className, text) {
  const el = document.createElement(tag)
  if (className) el.className = className
  if (text !== undefined) el.textContent = text
  return el
}

/** One line of the log: time, who, where, then the text on its own line. */
function message ({ ts, who, where, text, mine = false, note = '', state = '', data = {} }) {
  const li = element('li', mine ? 'message mine' : 'message')
  const time = element('time', '', timeOf(ts))
  time.dateTime = new Date(ts).toISOString()
  li.append(time, element('span', 'who', who), element('span', 'where', where), element('span', 'note', note), element('span', 'text', text))
  if (state) li.dataset.state = state
  for (const [k, v] of Object.entries(data)) li.dataset[k] = v
  log.append(li)
  li.scrollIntoView({ block: 'nearest' })
  return li
}

function system (text) {
  const li = element('li', 'system')
  li.append(element('time', '', timeOf(Date.now())), element('span', '', text))
  log.append(li)
  li.scrollIntoView({ block: 'nearest' })
}

function setNote (li, state, note) {
  li.dataset.state = state
  li.querySelector('.note').textContent = note
}

/** Says what went wrong, at the top and in the log; `''` clears it. */
function fail (text) {
  const box = $('#error')
  box.hidden = text === ''
  box.textContent = text
  if (text !== '') system(text)
}

function defaultUid () {
  const asked = new URLSearchParams(location.search).get('uid')
  if (asked) return asked
  try {
    const kept = sessionStorage.getItem('gate-demo-uid')
    if (kept) return kept
    const n = Number(localStorage.getItem('gate-demo-tabs') ?? '0')
    localStorage.setItem('gate-demo-tabs', String(n + 1))
    const name = NAMES[n % NAMES.length]
    sessionStorage.setItem('gate-demo-uid', name)
    return name
  } catch {
    return NAMES[0]
  }
}

/** After every login: was everything missed while away replayed (docs/client.md, Resume)? In words. */
function showResume (r) {
  const el = $('#resume')
  el.dataset.recovered = String(r.recovered)
  el.dataset.position = r.position
  const missed = replayed === 0 ? '' : `, ${replayed} missed message${replayed === 1 ? '' : 's'} delivered`
  if (r.from === '') el.textContent = 'new session'
  else if (r.recovered) el.textContent = `resumed: nothing lost${missed}`
  else el.textContent = `resumed: some messages sent while you were away may be missing${missed}`
  if (r.from !== '') system(el.textContent)
}

/**
 * After every subscribe the server accepted with a position (a room resumed
 * after a reconnect, docs/client.md, Room resume): was everything the room
 * said meanwhile replayed? In words; nothing on a first subscribe.
 */
function showRoomResume (r) {
  if (r.from === '') return
  const el = $('#room-resume')
  el.dataset.room = r.room
  el.dataset.recovered = String(r.recovered)
  const n = roomReplayed.get(r.room) ?? 0
  roomReplayed.delete(r.room)
  const missed = n === 0 ? '' : `, ${n} missed message${n === 1 ? '' : 's'} delivered`
  el.textContent = r.recovered
    ? `#${r.room} resumed: nothing lost${missed}`
    : `#${r.room} resumed: some room messages sent while you were away may be missing${missed}`
  system(el.textContent)
}

function closeWords (code, reason) {
  const meaning = CLOSES[code]
  return `${code} ${reason || ''}`.trim() + (meaning && meaning !== reason ? ` (${meaning})` : '')
}

function showState (s) {
  status.dataset.status = s.status
  status.dataset.code = 'code' in s ? String(s.code) : ''
  if (s.status === 'connected') status.textContent = `connected as ${uid}`
  else if (s.status === 'connecting') status.textContent = s.attempt === 0 ? 'connecting…' : `connecting (attempt ${s.attempt + 1})…`
  else if (s.status === 'reconnecting') status.textContent = `connection lost: ${closeWords(s.code, s.reason)}; trying again in ${Math.max(1, Math.round(s.delay / 1000))} s`
  else if (s.status === 'disconnected') status.textContent = `disconnected: ${closeWords(s.code, s.reason)}`
  if (s.status === 'connecting') {
    replayed = 0
    roomReplayed.clear()
  }
  if (s.status === 'connected') refreshOnline()
  if (s.status === 'reconnecting' || s.status === 'disconnected') system(status.textContent)
  if (s.status === 'disconnected') stopOnline()
}

async function tokenFor (as, pasted) {
  if (pasted) return pasted
  const res = await fetch(`/demo/token?uid=${encodeURIComponent(as)}`)
  if (res.status === 404) throw new Error('No dev token route: the app runs with GATE_TOKEN_SECRET set. Paste a token from `npm run token -- <uid>`.')
  if (!res.ok) {
    const body = await res.json().catch(() => ({}))
    throw new Error(`The token route refused uid "${as}": ${res.status} ${body.message ?? res.statusText}`)
  }
  return (await res.json()).token
}

async function loadLimits () {
  const [protocol, served] = await Promise.all([fetchProtocol('/gate/protocol'), fetch('/demo/limits').then(r => r.json())])
  limits = served
  maxMsgLen = protocol.maxMsgLen
  say.elements.content.maxLength = limits.content
  $('#login').elements.uid.maxLength = limits.uid
  showCount()
  return protocol
}

function renderOnline (page) {
  online = new Set(page.uids)
  $('#online-total').textContent = `(${page.total})`
  const list = $('#online')
  list.replaceChildren(...page.uids.map(u => {
    const li = element('li', u === uid ? 'me' : '')
    const button = element('button', '', u === uid ? `${u} (you)` : u)
    button.type = 'button'
    button.dataset.uid = u
    button.addEventListener('click', () => { say.elements.to.value = u; say.elements.content.focus() })
    li.append(button)
    return li
  }))
  if (page.total > page.uids.length) list.append(element('li', 'hint', `and ${page.total - page.uids.length} more`))
}

/** Who is online: a request (C2S_Online, answered with S2C_Online; docs/client.md, Requests). */
async function refreshOnline () {
  clearTimeout(onlineTimer)
  try {
    if (client?.state.status === 'connected') renderOnline(await client.request('C2S_Online', {}, { timeout: 5000 }))
  } finally {
    if (client?.state.status === 'connected') onlineTimer = setTimeout(refreshOnline, ONLINE_EVERY)
  }
}

function stopOnline () {
  clearTimeout(onlineTimer)
  $('#online').replaceChildren(element('li', 'hint', 'not connected'))
  $('#online-total').textContent = ''
}

/** The rooms of the rooms box, or an error saying which limit it passes. */
function parseRooms (text) {
  const list = [...new Set(text.split(',').map(r => r.trim()).filter(Boolean))]
  if (list.length > limits.rooms) throw new Error(`At most ${limits.rooms} rooms at once.`)
  const long = list.find(r => r.length > limits.room)
  if (long !== undefined) throw new Error(`A room name has at most ${limits.room} characters ("${long.slice(0, 20)}…" has ${long.length}).`)
  return list
}

async function connect (as, pasted) {
  fail('')
  client?.close()
  stopOnline()
  uid = as
  try { sessionStorage.setItem('gate-demo-uid', uid) } catch {}
  token = await tokenFor(uid, pasted)
  const protocol = await loadLimits()
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws'
  // The position is kept per uid for this tab, so a reload resumes too.
  const key = `gate-demo-position:${uid}`
  const me = createClient({
    transport: webSocket(`${scheme}://${location.host}/ws`),
    codec: codecFor(protocol),
    heartbeat: { name: 'C2S_UserHeartBeat', body: () => ({ ptime: Math.floor(Date.now() / 1000) }), interval: 20000 },
    reconnect: { initialDelay: 250, maxDelay: 5000 },
    // Nothing is queued while offline: a message is either sent or said not to be.
    offline: 'error',
    resume: { store: { get: () => sessionStorage.getItem(key), set: (pos) => sessionStorage.setItem(key, pos) } },
    login: async (session) => {
      // resume_pos: what this tab saw last; the messages sent to this uid since then come first, then the answer
      session.send('C2S_UserLogin', { token, login_plat: 3, resume_pos: session.position })
      const answer = await session.next('S2C_UserLogin')
      if (answer.ret !== 1) throw new LoginRefused(answer.msg)
      // The rooms are the client's subscriptions: it subscribes again after this, before it says connected.
      return answer // the client reads `recovered` and `gate_pos` from it
    }
  })
  client = me
  me.onState(s => { if (client === me) showState(s) })
  me.onResume(r => { if (client === me) showResume(r) })
  // With resume on, each room is resumed too: its messages missed while away come first, once, in order.
  me.onRoomResume(r => { if (client === me) showRoomResume(r) })
  me.on('S2C_Message', (m) => {
    const away = me.state.status !== 'connected'
    if (away && m.room) roomReplayed.set(m.room, (roomReplayed.get(m.room) ?? 0) + 1)
    else if (away) replayed++
    if (m.from_uid === uid && m.room && confirmRoom(m)) return
    const where = m.room ? `#${m.room}` : m.to_uid && m.to_uid !== uid ? `to ${m.to_uid}` : 'to you'
    message({
      ts: m.ts || Date.now(),
      who: m.from_uid,
      where,
      text: m.content,
      note: away ? 'missed while away' : '',
      data: { from: m.from_uid, room: m.room ?? '', content: m.content, replayed: String(away) }
    })
  })
  // A room the server refuses (canJoin: private:<uid> is that uid's alone) is a coded error, not a close.
  me.onError((err) => { if (client === me && err.code === 'GATE_CLIENT_REFUSED' && err.room) refused(err) })
  subscribeAll(me, rooms)
  me.on('S2C_Error', (m) => {
    const last = [...log.querySelectorAll('li.mine[data-state=sending], li.mine[data-state=sent]')].at(-1)
    if (last) setNote(last, 'failed', `not delivered: ${m.msg}`)
    fail(`The server did not deliver a message: ${m.code}: ${m.msg}`)
  })
  await me.connect().catch((err) => { if (err instanceof LoginRefused) fail(`Login refused: ${err.message}`) })
}

/** The rooms the server accepted, shown beside the rooms box. */
function showJoined (me) {
  joined = [...me.subscriptions].filter(r => !pendingRooms.has(r))
  $('#watching').textContent = joined.length ? `in ${joined.map(r => `#${r}`).join(', ')}` : 'in no room'
}

/** Rooms asked for and not yet accepted. */
const pendingRooms = new Set()

function refused (err) {
  fail(`Not in #${err.room}: the server refused it (${err.serverCode}).`)
}

/** Subscribes to `list` (each resolves once the server accepted it, after the login on a first connect). */
function subscribeAll (me, list) {
  for (const room of list) {
    pendingRooms.add(room)
    me.subscribe(room)
      .catch((err) => { if (client === me && err.code === 'GATE_CLIENT_REFUSED') refused(err) })
      .finally(() => { pendingRooms.delete(room); if (client === me) showJoined(me) })
  }
}

/** A room message of ours came back: the room got it. */
function confirmRoom (m) {
  const pending = [...log.querySelectorAll('li.mine[data-state=sending]')].find(li => li.dataset.room === m.room && li.dataset.content === m.content)
  if (!pending) return false
  setNote(pending, 'delivered', `delivered to #${m.room}`)
  return true
}

function showCount () {
  const n = say.elements.content.value.length
  $('#count').textContent = limits.content ? `${n} / ${limits.content}` : ''
}

/** Bytes of the S2C_Message this becomes, in JSON with the position the gate may add: it must fit maxMsgLen. */
function outboundBytes (target, content) {
  const body = { from_uid: uid, ...target, content, ts: Date.now(), gate_pos: 'x'.repeat(32) }
  return new TextEncoder().encode(JSON.stringify({ S2C_Message: body })).length
}

function send (toText, content) {
  if (!client || client.state.status !== 'connected') throw new Error('Not sent: not connected.')
  if (content.trim() === '') throw new Error('Not sent: the message is empty.')
  const room = toText.startsWith('#') ? toText.slice(1).trim() : ''
  const to = room ? '' : toText.trim()
  if (!room && !to) throw new Error('Not sent: give a #room or a uid in "to".')
  if (room.length > limits.room) throw new Error(`Not sent: a room name has at most ${limits.room} characters.`)
  if (to.length > limits.uid) throw new Error(`Not sent: a uid has at most ${limits.uid} characters.`)
  if (content.length > limits.content) throw new Error(`Not sent: ${content.length} characters, the server takes at most ${limits.content}.`)
  const target = room ? { room } : { to_uid: to }
  const bytes = outboundBytes(target, content)
  if (bytes > maxMsgLen) throw new Error(`Not sent: it would be ${bytes} bytes on the wire, over the server's maxMsgLen of ${maxMsgLen}.`)
  client.send('C2S_Message', { ...target, content })
  const line = message({ ts: Date.now(), who: uid, where: room ? `#${room}` : `to ${to}`, text: content, mine: true, data: { room, to, content } })
  if (room) {
    if (joined.includes(room)) setNote(line, 'sending', 'sent…')
    else setNote(line, 'sent', `sent to #${room} (you are not in it, so no copy comes back)`)
  } else {
    setNote(line, 'sent', 'sent')
    refreshOnline().then(() => {
      if (online.has(to)) setNote(line, 'online', `delivered: ${to} is online`)
      else setNote(line, 'offline', `${to} is offline: they get it only if their session resumes`)
    }).catch(() => {})
  }
}

$('#login').elements.uid.value = defaultUid()

$('#login').addEventListener('submit', (e) => {
  e.preventDefault()
  const form = new FormData(e.target)
  connect(String(form.get('uid')).trim(), String(form.get('token')).trim()).catch((err) => fail(err.message))
})

$('#disconnect').addEventListener('click', () => client?.close())

$('#rooms').addEventListener('submit', (e) => {
  e.preventDefault()
  try {
    rooms = parseRooms(String(new FormData(e.target).get('rooms')))
    fail('')
    if (client && client.state.status !== 'disconnected') {
      const me = client
      for (const room of [...me.subscriptions]) if (!rooms.includes(room)) me.unsubscribe(room).then(() => showJoined(me), () => {})
      subscribeAll(me, rooms.filter(room => !me.subscriptions.has(room)))
    }
  } catch (err) {
    fail(err.message)
  }
})

say.elements.content.addEventListener('input', showCount)

say.addEventListener('submit', (e) => {
  e.preventDefault()
  const form = new FormData(e.target)
  try {
    send(String(form.get('to')), String(form.get('content')))
    fail('')
    say.elements.content.value = ''
    showCount()
  } catch (err) {
    fail(err.message)
  }
})
