/**
 * Plays API Gateway (HTTP API, payload format 2.0) on loopback: turns each HTTP request into the
 * event a Lambda handler receives in production and the handler's result back into a response.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

/** API Gateway's own payload limit: larger requests never reach the function. */
const API_GATEWAY_MAX_BYTES = 10 * 1024 * 1024;

export type LambdaRoute = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;
/** A plain local endpoint (health, inspection pages): not part of the production API. */
export type LocalRoute = (request: IncomingMessage, url: URL) => Promise<{ status: number; type?: string; body: string | Buffer }>;

export interface GatewayRoutes {
  /** Routes like "GET /webhook" played as API Gateway → Lambda. */
  readonly lambda: Record<string, LambdaRoute>;
  /** Local-only routes like "GET /health", or "GET /local/media/*" for every path under a prefix. */
  readonly local: Record<string, LocalRoute>;
}

export async function startApiGateway(routes: GatewayRoutes, options: { port: number; host?: string }): Promise<{ server: Server; url: string; stop(): Promise<void> }> {
  const server = createServer((req, res) => {
    handle(routes, req, res).catch((error: unknown) => {
      send(res, 500, 'application/json', JSON.stringify({ message: 'Internal Server Error', detail: String(error) }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(routes: GatewayRoutes, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const method = req.method ?? 'GET';
  const lambda = routes.lambda[`${method} ${url.pathname}`] ?? routes.lambda[`ANY ${url.pathname}`] ?? prefixRoute(routes.lambda, url.pathname);
  if (lambda) {
    const body = await readBody(req);
    if (body === 'too-large') return send(res, 413, 'application/json', JSON.stringify({ message: 'Request Entity Too Large' }));
    const result = await lambda(toEvent(req, url, method, body));
    const headers = { ...(result.headers ?? {}) } as Record<string, string>;
    const payload = result.body ?? '';
    res.writeHead(result.statusCode ?? 200, headers);
    res.end(result.isBase64Encoded ? Buffer.from(payload, 'base64') : payload);
    return;
  }
  const local = routes.local[`${method} ${url.pathname}`] ?? localPrefixRoute(routes.local, method, url.pathname);
  if (local) {
    const out = await local(req, url);
    return send(res, out.status, out.type ?? 'application/json', out.body);
  }
  send(res, 404, 'application/json', JSON.stringify({ message: 'Not Found' }));
}

/** A route like "ANY /api/*" (API Gateway's `/api/{proxy+}`): every path under the prefix. */
function prefixRoute(routes: Record<string, LambdaRoute>, path: string): LambdaRoute | undefined {
  for (const [route, fn] of Object.entries(routes)) {
    const prefix = route.startsWith('ANY ') && route.endsWith('/*') ? route.slice(4, -1) : undefined;
    if (prefix && (path.startsWith(prefix) || path === prefix.slice(0, -1))) return fn;
  }
  return undefined;
}

function localPrefixRoute(routes: Record<string, LocalRoute>, method: string, path: string): LocalRoute | undefined {
  for (const [route, fn] of Object.entries(routes)) {
    if (route.endsWith('/*') && route.startsWith(`${method} `) && path.startsWith(route.slice(method.length + 1, -1))) return fn;
  }
  return undefined;
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { 'content-type': type });
  res.end(body);
}

async function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > API_GATEWAY_MAX_BYTES) return 'too-large';
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

const TEXT_TYPES = /^(application\/(json|x-www-form-urlencoded|xml)|text\/)/i;

/** The HTTP API payload 2.0 event, as API Gateway builds it. */
function toEvent(req: IncomingMessage, url: URL, method: string, body: Buffer): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = query[name] ? `${query[name]},${value}` : value;
  const now = new Date();
  const isText = TEXT_TYPES.test(headers['content-type'] ?? 'application/json');
  return {
    version: '2.0',
    routeKey: `${method} ${url.pathname}`,
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    headers,
    ...(Object.keys(query).length && { queryStringParameters: query }),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers['host'] ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: `${method} ${url.pathname}`,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length && { body: isText ? body.toString('utf8') : body.toString('base64') }),
    isBase64Encoded: body.length > 0 && !isText,
  };
}
