/** How the bytes arrive: a byte stream (TCP, TLS) or WebSocket messages. */
export type Transport = 'ws' | 'tcp'
