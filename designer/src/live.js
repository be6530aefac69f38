/**
 * socket.io: one connection per page, same origin (the session cookie authenticates it).
 * `watch(room, handler)` subscribes, re-subscribes after a reconnect, and returns the way out.
 */
import { io } from 'socket.io-client';

let socket = null;
const watchers = new Map(); // room -> Set(handler)
const LEAVE_AFTER_MS = 1000;

function connection() {
  if (!socket) {
    // Long polling first, upgraded to WebSocket where the server can: `dealflow run`'s threading
    // server answers the WebSocket handshake with 400, and a WebSocket-only client then gets no
    // live updates at all.
    socket = io({ transports: ['polling', 'websocket'] });
    socket.on('connect', () => {
      for (const room of watchers.keys()) socket.emit('subscribe', { room });
    });
    socket.onAny((event, payload) => {
      for (const handlers of watchers.values()) for (const handler of handlers) handler(event, payload);
    });
  }
  return socket;
}

export function watch(room, handler) {
  const s = connection();
  if (!watchers.has(room)) {
    watchers.set(room, new Set());
    if (s.connected) s.emit('subscribe', { room });
  }
  watchers.get(room).add(handler);
  return () => {
    const handlers = watchers.get(room);
    if (!handlers) return;
    handlers.delete(handler);
    if (!handlers.size) {
      watchers.delete(room);
      // Left a moment later: the next screen often watches the same room (the board's deal,
      // then its card), and an unsubscribe racing that screen's subscribe on the server (each
      // message is handled in its own thread) could leave the room unwatched.
      setTimeout(() => {
        if (!watchers.has(room) && s.connected) s.emit('unsubscribe', { room });
      }, LEAVE_AFTER_MS);
    }
  };
}
