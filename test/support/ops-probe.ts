/** One GET to a process's ops server (/metrics, /livez, /readyz) on loopback. */
export async function getOps(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

/** Polls /readyz until it answers 200 or `timeoutMs` passes; returns its last answer. */
export async function waitForReady(port: number, timeoutMs = 20_000): Promise<{ status: number; body: string }> {
  const deadline = Date.now() + timeoutMs;
  let ready = await getOps(port, '/readyz');
  while (ready.status !== 200 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    ready = await getOps(port, '/readyz');
  }
  return ready;
}
