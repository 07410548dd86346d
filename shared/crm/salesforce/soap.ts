/**
 * The one SOAP call the adapter makes: `merge()` of the SOAP API (Partner WSDL), which the REST
 * API has no counterpart of. Pure: the request envelope and the reading of the answer.
 *
 *   POST {instance}/services/Soap/u/{version}          Content-Type: text/xml; SOAPAction: ""
 *   <soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
 *                     xmlns:urn="urn:partner.soap.sforce.com" xmlns:urn1="urn:sobject.partner.soap.sforce.com">
 *     <soapenv:Header><urn:SessionHeader><urn:sessionId>{OAuth access token}</urn:sessionId></urn:SessionHeader></soapenv:Header>
 *     <soapenv:Body><urn:merge><urn:request>
 *       <urn:masterRecord><urn1:type>Contact</urn1:type><urn1:Id>{survivor}</urn1:Id></urn:masterRecord>
 *       <urn:recordToMergeIds>{loser}</urn:recordToMergeIds>
 *     </urn:request></urn:merge></soapenv:Body>
 *   </soapenv:Envelope>
 *
 * The OAuth access token of the client credentials flow is a session id the SOAP API takes in
 * SessionHeader. The answer is `mergeResponse/result`: MergeResult `{ id, success, errors[]
 * { statusCode, fields, message }, mergedRecordIds[], updatedRelatedIds[] }`, one per request.
 * A refused call is a SOAP fault (HTTP 500 whatever the cause): `faultcode` `sf:INVALID_SESSION_ID`,
 * `sf:REQUEST_LIMIT_EXCEEDED` … — mapped here onto the HTTP status the REST API answers for the
 * same code, so the HTTP layer's retries, session renewal and error kinds apply unchanged.
 * Messages are never kept (they may quote values); codes and field names are.
 */

export const SOAP_ENVELOPE_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
export const PARTNER_NS = 'urn:partner.soap.sforce.com';
export const SOBJECT_NS = 'urn:sobject.partner.soap.sforce.com';

/** Up to three records per merge request, the master included (Salesforce's limit). */
export const MAX_MERGED_PER_REQUEST = 2;

export interface MergeResult {
  readonly success: boolean;
  /** The master record's id. */
  readonly id: string | undefined;
  readonly mergedRecordIds: readonly string[];
  readonly updatedRelatedIds: readonly string[];
  readonly errors: readonly { readonly statusCode: string; readonly fields: readonly string[] }[];
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

export function xmlEscape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

export function xmlUnescape(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, name: string) => {
    if (name.startsWith('#x')) return String.fromCodePoint(parseInt(name.slice(2), 16));
    if (name.startsWith('#')) return String.fromCodePoint(Number(name.slice(1)));
    return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[name as 'amp']!;
  });
}

/** The merge() request of `loserIds` into `masterId`, authenticated by `sessionId`. */
export function mergeEnvelope(sessionId: string, object: string, masterId: string, loserIds: readonly string[]): string {
  if (loserIds.length < 1 || loserIds.length > MAX_MERGED_PER_REQUEST) throw new Error(`a merge request merges 1 or ${MAX_MERGED_PER_REQUEST} records into the master, got ${loserIds.length}`);
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    `<soapenv:Envelope xmlns:soapenv="${SOAP_ENVELOPE_NS}" xmlns:urn="${PARTNER_NS}" xmlns:urn1="${SOBJECT_NS}">` +
    `<soapenv:Header><urn:SessionHeader><urn:sessionId>${xmlEscape(sessionId)}</urn:sessionId></urn:SessionHeader></soapenv:Header>` +
    '<soapenv:Body><urn:merge><urn:request>' +
    `<urn:masterRecord><urn1:type>${xmlEscape(object)}</urn1:type><urn1:Id>${xmlEscape(masterId)}</urn1:Id></urn:masterRecord>` +
    loserIds.map((id) => `<urn:recordToMergeIds>${xmlEscape(id)}</urn:recordToMergeIds>`).join('') +
    '</urn:request></urn:merge></soapenv:Body></soapenv:Envelope>'
  );
}

/**
 * The inner XML of each element named `name` (any namespace prefix), in order; an empty or
 * nil element (`<id xsi:nil="true"/>`) is ''. Not nested in itself (SOAP answers never are).
 */
export function elements(xml: string, name: string): string[] {
  const tag = `(?:[A-Za-z_][\\w.-]*:)?${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`;
  const pattern = new RegExp(`<${tag}(?:\\s[^>]*?)?(?:/>|>([\\s\\S]*?)</${tag}\\s*>)`, 'g');
  return [...xml.matchAll(pattern)].map((m) => m[1] ?? '');
}

/** The text of the first element named `name`, unescaped; undefined when absent or empty. */
export function textOf(xml: string, name: string): string | undefined {
  const [inner] = elements(xml, name);
  const text = inner === undefined ? '' : xmlUnescape(inner).trim();
  return text === '' ? undefined : text;
}

const SAFE_CODE = /^[A-Z][A-Z0-9_]{0,79}$/;

/** A SOAP fault's code (`sf:INVALID_SESSION_ID` → INVALID_SESSION_ID), undefined when the answer is none. */
export function faultCode(xml: string): string | undefined {
  const [fault] = elements(xml, 'Fault');
  if (fault === undefined) return undefined;
  const code = (textOf(fault, 'exceptionCode') ?? textOf(fault, 'faultcode') ?? '').replace(/^[A-Za-z]+:/, '');
  return SAFE_CODE.test(code) ? code : 'UNKNOWN_EXCEPTION';
}

/** The HTTP status the REST API answers for a fault code (a SOAP fault itself is always a 500). */
export function faultStatus(code: string): number {
  if (code === 'INVALID_SESSION_ID') return 401;
  if (code === 'REQUEST_LIMIT_EXCEEDED' || code === 'API_DISABLED_FOR_ORG' || code === 'INSUFFICIENT_ACCESS') return 403;
  if (code === 'SERVER_UNAVAILABLE') return 503;
  if (code === 'UNKNOWN_EXCEPTION') return 500;
  return 400;
}

/**
 * A SOAP answer as the HTTP layer sees a REST one: a fault becomes its REST status with
 * `[{ errorCode }]` (so errors.ts reads it), anything else keeps its status with the XML text.
 */
export function soapAnswer(status: number, text: string): { status: number; body: unknown } {
  const code = faultCode(text);
  if (code !== undefined) return { status: faultStatus(code), body: [{ errorCode: code, fields: [] }] };
  return { status, body: text };
}

/** The MergeResults of a `mergeResponse`; undefined when the text is not one. */
export function parseMergeResponse(xml: string): MergeResult[] | undefined {
  const [response] = elements(xml, 'mergeResponse');
  if (response === undefined) return undefined;
  return elements(response, 'result').map((result) => ({
    success: textOf(result, 'success') === 'true',
    id: textOf(result, 'id'),
    mergedRecordIds: elements(result, 'mergedRecordIds').map((t) => xmlUnescape(t).trim()).filter(Boolean),
    updatedRelatedIds: elements(result, 'updatedRelatedIds').map((t) => xmlUnescape(t).trim()).filter(Boolean),
    errors: elements(result, 'errors').map((error) => {
      const code = textOf(error, 'statusCode') ?? '';
      return { statusCode: SAFE_CODE.test(code) ? code : 'UNKNOWN_EXCEPTION', fields: elements(error, 'fields').map((f) => xmlUnescape(f).trim()).filter((f) => /^[A-Za-z0-9_.]{1,80}$/.test(f)) };
    }),
  }));
}
