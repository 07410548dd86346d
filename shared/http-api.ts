/**
 * The answers and headers of API Gateway's HTTP API (payload format 2.0), shared by the
 * functions behind it (the webhook, the SCRM API): JSON answers, errors as `{"error": "…"}`.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

export type HttpResult = APIGatewayProxyStructuredResultV2;

export const json = (statusCode: number, body: unknown): HttpResult => ({ statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** An error answer naming the problem. */
export const problem = (statusCode: number, error: string): HttpResult => json(statusCode, { error });

/** A request header, whatever its case (API Gateway lowercases them; local callers may not). */
export function headerOf(event: APIGatewayProxyEventV2, name: string): string | undefined {
  const headers = event.headers ?? {};
  return headers[name] ?? Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1];
}
