/**
 * Baseline: socket.io (WebSocket transport only, its usual production setting)
 * doing the same chat work with events: one event per message name, the body as
 * its argument, uids and rooms as socket.io rooms.
 */
import { createVerifier } from 'fast-jwt'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Server } from 'socket.io'
import { adminRoutes } from './bare-chat.js'
import { SECRET, serveServer } from './control.js'

const verify = createVerifier({ key: SECRET, algorithms: ['HS256'], cache: true })
const isObject = (v: unknown): v is Record<string, any> => v !== null && typeof v === 'object' && !Array.isArray(v)
const uidRoom = (uid: string): string => `uid:${uid}`

const http = createServer()
const io = new Server(http, { transports: ['websocket'], serveClient: false, maxHttpBufferSize: 4096 })
const rooms = io.of('/').adapter.rooms
const admin = adminRoutes({
  pushToUids: (uids, name, body) => {
    const targets = [...new Set(uids)].map(uidRoom)
    io.to(targets).emit(name, body)
    return targets.reduce((n, r) => n + (rooms.get(r)?.size ?? 0), 0)
  },
  pushToRoom: (room, name, body) => {
    io.to(room).emit(name, body)
    return rooms.get(room)?.size ?? 0
  },
  broadcast: (name, body) => {
    io.emit(name, body)
    return io.engine.clientsCount
  }
})
// socket.io answers its own path; everything else is the admin API.
http.on('request', (req, res) => { if (req.url?.startsWith('/gate/') === true) admin(req, res) })

io.on('connection', socket => {
  socket.on('C2S_UserHeartBeat', (body: unknown) => {
    if (!isObject(body) || (body.ptime !== undefined && typeof body.ptime !== 'number')) return socket.disconnect(true)
    socket.emit('C2S_UserHeartBeat', { ptime: Math.floor(Date.now() / 1000) })
  })
  socket.on('C2S_UserLogin', (body: unknown) => {
    if (!isObject(body) || typeof body.token !== 'string' || body.token.length === 0 || body.token.length > 4096) return socket.disconnect(true)
    let uid: string
    try {
      uid = (verify(body.token) as { sub: string }).sub
    } catch {
      socket.emit('S2C_UserLogin', { ret: 0, msg: 'invalid token', uid: '' })
      return socket.disconnect(true)
    }
    if (socket.data.uid !== undefined) void socket.leave(uidRoom(socket.data.uid))
    socket.data.uid = uid
    void socket.join(uidRoom(uid))
    socket.emit('S2C_UserLogin', { ret: 1, msg: 'ok', uid })
  })
  socket.on('C2S_UpdateWatchRoom', (body: unknown) => {
    if (!isObject(body) || !Array.isArray(body.rooms) || body.rooms.length > 64) return socket.disconnect(true)
    if (socket.data.uid === undefined) return socket.disconnect(true)
    const wanted = new Set<string>(body.rooms)
    for (const room of socket.rooms) if (room !== socket.id && room !== uidRoom(socket.data.uid) && !wanted.has(room)) void socket.leave(room)
    void socket.join([...wanted])
    socket.emit('S2C_UpdateWatchRoom', { rooms: body.rooms })
  })
})

http.listen(0, '127.0.0.1', () => {
  serveServer({ port: (http.address() as AddressInfo).port, path: '/socket.io/', adminApi: 'node:http' }, () => io.engine.clientsCount)
})
