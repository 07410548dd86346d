/**
 * The SOAP API of the local org (`POST /services/Soap/u/{version}`, Partner WSDL) for the one call
 * the adapter makes: merge(). The session id is read from the SessionHeader (the OAuth access
 * token), the request's masterRecord (type, Id) and recordToMergeIds, and the store merges
 * (store.ts `merge`). Answered as Salesforce answers: `mergeResponse/result` per request —
 * `{ id, mergedRecordIds, success, updatedRelatedIds }`, or `success false` with `errors
 * { message, statusCode, fields }` — and anything that stops the whole call as a SOAP fault,
 * HTTP 500 with `sf:<code>` (INVALID_SESSION_ID, REQUEST_LIMIT_EXCEEDED, INVALID_TYPE …).
 */
import { elements, PARTNER_NS, SOAP_ENVELOPE_NS, textOf, xmlEscape, xmlUnescape } from '#shared/crm/salesforce/soap';
import { SalesforceFailure } from './failures.ts';
import type { LocalSalesforceStore, MergeOutcome } from './store.ts';

/** The objects merge() takes that this org has. */
const MERGEABLE = new Set(['Contact', 'Account', 'Lead']);

export interface SoapAnswer {
  readonly status: number;
  readonly body: string;
}

export class SoapFault extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The session id of a SOAP request (undefined: none). */
export function sessionIdOf(xml: string): string | undefined {
  const [header] = elements(xml, 'SessionHeader');
  return header === undefined ? undefined : textOf(header, 'sessionId');
}

/** Runs the call in the envelope (merge() only); a fault for what stops it. */
export function soapCall(store: LocalSalesforceStore, xml: string): SoapAnswer {
  const [body] = elements(xml, 'Body');
  if (body === undefined) throw new SoapFault('INVALID_OPERATION', 'The request is not a SOAP envelope with a Body');
  const [merge] = elements(body, 'merge');
  if (merge === undefined) throw new SoapFault('INVALID_OPERATION', 'This local org answers merge() only');
  const requests = elements(merge, 'request');
  if (requests.length === 0 || requests.length > 200) throw new SoapFault('INVALID_OPERATION', 'merge() takes 1 to 200 merge requests');
  const results = requests.map((request) => mergeOne(store, request));
  return { status: 200, body: envelope(`<mergeResponse>${results.join('')}</mergeResponse>`) };
}

function mergeOne(store: LocalSalesforceStore, request: string): string {
  const [master] = elements(request, 'masterRecord');
  const type = master === undefined ? undefined : textOf(master, 'type');
  const masterId = master === undefined ? undefined : textOf(master, 'Id');
  const losers = elements(request, 'recordToMergeIds').map((t) => xmlUnescape(t).trim()).filter(Boolean);
  if (!type || !MERGEABLE.has(type) || !store.schema.has(type)) throw new SoapFault('INVALID_TYPE', `merge() takes Contact, Account or Lead records, not ${type ?? 'none'}`);
  if (!masterId) return failed('REQUIRED_FIELD_MISSING', 'masterRecord needs its Id', ['Id']);
  if (losers.length < 1 || losers.length > 2) return failed('INVALID_ARGUMENT_TYPE', 'Up to three records can be merged at once, the master included', ['recordToMergeIds']);
  let outcome: MergeOutcome;
  try {
    outcome = store.merge(type, masterId, losers);
  } catch (error) {
    if (!(error instanceof SalesforceFailure)) throw error;
    return failed(error.item.errorCode, error.item.message, error.item.fields);
  }
  const ids = (name: string, list: readonly string[]) => list.map((id) => `<${name}>${xmlEscape(id)}</${name}>`).join('');
  return `<result><id>${xmlEscape(outcome.id)}</id>${ids('mergedRecordIds', outcome.mergedRecordIds)}<success>true</success>${ids('updatedRelatedIds', outcome.updatedRelatedIds)}</result>`;
}

function failed(code: string, message: string, fields: readonly string[]): string {
  return `<result><errors>${fields.map((f) => `<fields>${xmlEscape(f)}</fields>`).join('')}<message>${xmlEscape(message)}</message><statusCode>${xmlEscape(code)}</statusCode></errors><id xsi:nil="true"/><success>false</success></result>`;
}

function envelope(body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="${SOAP_ENVELOPE_NS}" xmlns="${PARTNER_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>${body}</soapenv:Body></soapenv:Envelope>`;
}

/** A SOAP fault as Salesforce sends it (always HTTP 500). */
export function soapFault(code: string, message: string): SoapAnswer {
  return {
    status: 500,
    body:
      `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="${SOAP_ENVELOPE_NS}" xmlns:sf="urn:fault.partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` +
      `<soapenv:Body><soapenv:Fault><faultcode>sf:${xmlEscape(code)}</faultcode><faultstring>${xmlEscape(`${code}: ${message}`)}</faultstring>` +
      `<detail><sf:UnexpectedErrorFault xsi:type="sf:UnexpectedErrorFault"><sf:exceptionCode>${xmlEscape(code)}</sf:exceptionCode><sf:exceptionMessage>${xmlEscape(message)}</sf:exceptionMessage></sf:UnexpectedErrorFault></detail>` +
      `</soapenv:Fault></soapenv:Body></soapenv:Envelope>`,
  };
}

/** The fault an injected status stands for. */
export function faultOfStatus(status: number): SoapAnswer {
  if (status === 401) return soapFault('INVALID_SESSION_ID', 'Invalid Session ID found in SessionHeader: Illegal Session');
  if (status === 403 || status === 429) return soapFault('REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.');
  if (status === 503) return soapFault('SERVER_UNAVAILABLE', 'Server temporarily unavailable');
  if (status >= 500) return soapFault('UNKNOWN_EXCEPTION', 'An unexpected error occurred.');
  return soapFault('INVALID_FIELD', `Injected fault ${status}`);
}
