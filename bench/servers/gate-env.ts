/**
 * The example app's variables as the echo bench's gate runs it (bench/servers/gate.ts,
 * and bench/tools/pipeline-cost.ts without sockets): every port 0 on 127.0.0.1, and
 * the per-IP and message-rate limits off unless the environment sets them. The load
 * comes from one address at thousands of messages a second per connection: the
 * limits must not bind, or the benchmark measures the limiters (their own cost is
 * bench/tools/hotpath.ts).
 */
export function benchGateEnv (env: NodeJS.ProcessEnv, secret: string, adminToken: string): NodeJS.ProcessEnv {
  return {
    ...env,
    HOST: '127.0.0.1',
    PORT: '0',
    GATE_TCP_PORT: '0',
    GATE_MQTT_PORT: '0',
    GATE_TOKEN_SECRET: secret,
    GATE_ADMIN_TOKEN: adminToken,
    GATE_MAX_CONN: env.GATE_MAX_CONN ?? '1000000',
    GATE_IDLE_TIMEOUT: env.GATE_IDLE_TIMEOUT ?? '600000',
    GATE_MAX_CONN_PER_IP: env.GATE_MAX_CONN_PER_IP ?? '0',
    GATE_CONN_RATE_PER_IP: env.GATE_CONN_RATE_PER_IP ?? '0',
    GATE_MSG_RATE: env.GATE_MSG_RATE ?? '0',
    GATE_MSG_RATE_PER_IP: env.GATE_MSG_RATE_PER_IP ?? '0',
    GATE_HTTP_RATE_PER_IP: env.GATE_HTTP_RATE_PER_IP ?? '0'
  }
}
