/**
 * Meta's error answers, as the Cloud API gives them.
 *
 * Shape (https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes):
 *   { "error": { "message": "(#130429) Rate limit hit", "type": "OAuthException", "code": 130429,
 *                "error_data": { "messaging_product": "whatsapp", "details": "…" }, "fbtrace_id": "…" } }
 * `error_subcode` is documented as deprecated and not returned from v16.0 on, so it is only sent
 * when a fault asks for one. The HTTP status of each code is the one in that page's table (note:
 * the table gives 400, not 429, for 4, 80007, 130429 and 131056; 400 for 1 and 503 for 2).
 *
 * Titles and details are informational: Meta says to build on `code` and never on the text. They
 * are Meta's English wording where known, otherwise a translation of Meta's localised table.
 */
import { randomBytes } from 'node:crypto';

interface KnownError {
  readonly title: string;
  readonly details: string;
  readonly httpStatus: number;
}

/** Where `href` in a failed status points (as in Meta's status webhook example). */
export const ERROR_CODES_HREF = '/documentation/business-messaging/whatsapp/support/error-codes';

const KNOWN: Readonly<Record<number, KnownError>> = {
  0: { title: 'AuthException', details: 'We were unable to authenticate the app user.', httpStatus: 401 },
  1: { title: 'API Unknown', details: 'Invalid request or possible server error.', httpStatus: 400 },
  2: { title: 'API Service', details: 'Temporary due to downtime or due to being overloaded.', httpStatus: 503 },
  3: { title: 'API Method', details: 'Capability or permissions issue.', httpStatus: 500 },
  4: { title: 'API Too Many Calls', details: 'The app has reached its API call rate limit.', httpStatus: 400 },
  10: { title: 'Permission Denied', details: 'Permission is either not granted or has been removed.', httpStatus: 403 },
  33: { title: 'Parameter value is not valid', details: 'The business phone number has been deleted.', httpStatus: 400 },
  100: { title: 'Invalid parameter', details: 'The request included one or more unsupported or misspelled parameters.', httpStatus: 400 },
  190: { title: 'Access token has expired', details: 'Your access token has expired.', httpStatus: 401 },
  368: {
    title: 'Temporarily blocked for policies violations',
    details: 'The WhatsApp Business Account associated with the app has been restricted or disabled for violating a platform policy.',
    httpStatus: 403,
  },
  80007: { title: 'Rate limit issues', details: 'The WhatsApp Business Account has reached its rate limit.', httpStatus: 400 },
  130429: { title: 'Rate limit hit', details: 'Cloud API message throughput has been reached.', httpStatus: 400 },
  130472: { title: "User's number is part of an experiment", details: 'Message was not sent as part of an experiment.', httpStatus: 400 },
  131000: { title: 'Something went wrong', details: 'Message failed to send due to an unknown error.', httpStatus: 500 },
  131005: { title: 'Access denied', details: 'Permission is either not granted or has been removed.', httpStatus: 403 },
  131008: { title: 'Required parameter is missing', details: 'The request is missing a required parameter.', httpStatus: 400 },
  131009: { title: 'Parameter value is not valid', details: 'One or more parameter values are invalid.', httpStatus: 400 },
  131016: { title: 'Service unavailable', details: 'A service is temporarily unavailable.', httpStatus: 500 },
  131021: { title: 'Recipient cannot be sender', details: 'Sender and recipient phone number is the same.', httpStatus: 400 },
  131026: {
    title: 'Message Undeliverable',
    details:
      'Unable to deliver message. Reasons can include: the recipient phone number is not a WhatsApp phone number; the recipient has not accepted the new Terms of Service and Privacy Policy; the recipient is using an old WhatsApp version.',
    httpStatus: 400,
  },
  131031: {
    title: 'Account has been locked',
    details: 'The WhatsApp Business Account associated with the app has been restricted or disabled for violating a platform policy.',
    httpStatus: 403,
  },
  131042: {
    title: 'Business eligibility payment issue',
    details: 'Message failed to send because there were one or more errors related to your payment method.',
    httpStatus: 400,
  },
  131045: { title: 'Incorrect certificate', details: 'Message failed to send due to a phone number registration error.', httpStatus: 500 },
  131047: {
    title: 'Re-engagement message',
    details: 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
    httpStatus: 400,
  },
  131048: {
    title: 'Spam rate limit hit',
    details:
      'Message failed to send because there are restrictions on how many messages can be sent from this phone number. This may be because too many previous messages were blocked or flagged as spam.',
    httpStatus: 400,
  },
  // Title and details exactly as in Meta's status webhook example.
  131049: {
    title: 'This message was not delivered to maintain healthy ecosystem engagement.',
    details: 'In order to maintain a healthy ecosystem engagement, the message failed to be delivered.',
    httpStatus: 400,
  },
  131050: {
    title: 'User has stopped receiving marketing messages',
    details: 'Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business.',
    httpStatus: 400,
  },
  131051: { title: 'Unsupported message type', details: 'Message type is not currently supported.', httpStatus: 400 },
  131056: {
    title: '(Business Account, Consumer Account) pair rate limit hit',
    details: 'Too many messages sent from the sender phone number to the same recipient phone number in a short period of time.',
    httpStatus: 400,
  },
  131057: { title: 'Account in maintenance mode', details: 'Business Account is in maintenance mode.', httpStatus: 500 },
  // https://developers.facebook.com/documentation/business-messaging/whatsapp/business-scoped-user-ids (error codes);
  // that page gives no HTTP status: 400, like the other request errors.
  131062: {
    title: 'Business-scoped User ID (BSUID) recipients are not supported for this message.',
    details: 'Business-scoped User ID (BSUID) recipients are not supported for this message.',
    httpStatus: 400,
  },
  132000: {
    title: 'Number of parameters does not match the expected number of params',
    details: 'The number of variable parameter values included in the request did not match the number of variable parameters defined in the template.',
    httpStatus: 400,
  },
  132001: {
    title: 'Template name does not exist in the translation',
    details: 'The template does not exist in the specified language or the template has not been approved.',
    httpStatus: 404,
  },
  132005: { title: 'Translated text too long', details: 'Translated text is too long.', httpStatus: 400 },
  132007: { title: 'Format character policy violated', details: 'Template content violates a WhatsApp policy.', httpStatus: 400 },
  132012: {
    title: 'Parameter format does not match format in the created template',
    details: 'Variable parameter values formatted incorrectly.',
    httpStatus: 400,
  },
  132015: { title: 'Template is Paused', details: 'Template is paused due to low quality so it cannot be sent in a template message.', httpStatus: 400 },
  132016: {
    title: 'Template is Disabled',
    details: 'Template has been paused too many times due to low quality and is now permanently disabled.',
    httpStatus: 400,
  },
  133004: { title: 'Server temporarily unavailable', details: 'Server is temporarily unavailable.', httpStatus: 503 },
  133010: { title: 'Phone number Not Registered', details: 'The phone number is not registered on the WhatsApp Business Platform.', httpStatus: 400 },
  135000: { title: 'Generic user error', details: 'Message failed to send because of an unknown error with your request parameters.', httpStatus: 400 },
};

export interface GraphErrorAnswer {
  readonly status: number;
  readonly body: { readonly error: Record<string, unknown> };
}

export interface ErrorOverrides {
  readonly title?: string | undefined;
  readonly details?: string | undefined;
  readonly httpStatus?: number | undefined;
  readonly subcode?: number | undefined;
}

export function describeCode(code: number): KnownError {
  return KNOWN[code] ?? { title: 'Error', details: `Error ${code}`, httpStatus: 400 };
}

export function fbtraceId(): string {
  return randomBytes(17).toString('base64url').slice(0, 23);
}

/** A Cloud API error answer for `code` (with Meta's title, details and HTTP status unless overridden). */
export function whatsappError(code: number, overrides: ErrorOverrides = {}): GraphErrorAnswer {
  if (code === 190) return invalidToken(overrides.httpStatus);
  const known = describeCode(code);
  const title = overrides.title ?? known.title;
  return {
    status: overrides.httpStatus ?? known.httpStatus,
    body: {
      error: {
        message: `(#${code}) ${title}`,
        type: 'OAuthException',
        code,
        error_data: { messaging_product: 'whatsapp', details: overrides.details ?? known.details },
        ...(overrides.subcode !== undefined && { error_subcode: overrides.subcode }),
        fbtrace_id: fbtraceId(),
      },
    },
  };
}

/**
 * A refused or missing access token. It comes from the Graph API layer, not the Cloud API, and
 * real answers carry no `error_data` (e.g. github.com/Neurotech-HQ/heyoo/issues/13):
 *   {"error":{"message":"Invalid OAuth access token - Cannot parse access token","type":"OAuthException","code":190,"fbtrace_id":"…"}}
 * HTTP 401, as in the error codes table.
 */
export function invalidToken(httpStatus = 401): GraphErrorAnswer {
  return {
    status: httpStatus,
    body: {
      error: {
        message: 'Invalid OAuth access token - Cannot parse access token',
        type: 'OAuthException',
        code: 190,
        fbtrace_id: fbtraceId(),
      },
    },
  };
}

/** A node that does not exist (an unknown phone number or WABA id): Graph's code 100, subcode 33. */
export function unknownObject(method: string, id: string): GraphErrorAnswer {
  return {
    status: 400,
    body: {
      error: {
        message: `Unsupported ${method.toLowerCase()} request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api`,
        type: 'GraphMethodException',
        code: 100,
        error_subcode: 33,
        fbtrace_id: fbtraceId(),
      },
    },
  };
}

/** A path the Graph API does not know (Graph's code 2500). */
export function unknownPath(path: string): GraphErrorAnswer {
  return {
    status: 400,
    body: { error: { message: `Unknown path components: ${path}`, type: 'OAuthException', code: 2500, fbtrace_id: fbtraceId() } },
  };
}

/** The entry of a `failed` status webhook's `errors` (status webhook reference, example of a failed message). */
export function statusError(code: number, overrides: ErrorOverrides = {}) {
  const known = describeCode(code);
  const title = overrides.title ?? known.title;
  return { code, title, message: title, error_data: { details: overrides.details ?? known.details }, href: ERROR_CODES_HREF };
}
