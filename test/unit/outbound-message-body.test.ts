import { describe, expect, it } from 'vitest';
import type { OutboundContent, SendRequest } from '#shared/whatsapp/outbound/channel';
import { OutboundContentError, isBsuidAddress, messageBody } from '#shared/whatsapp/outbound/message-body';

const PHONE = { phone: '+85291234567' } as const;
const BSUID = { bsuid: 'US.13491208655302741918' } as const;

function request(content: OutboundContent, overrides: Partial<SendRequest> = {}): SendRequest {
  return { phoneNumberId: '106540352242922', to: PHONE, content, callbackData: 'out#01HZX', ...overrides };
}

function refusal(content: OutboundContent, overrides: Partial<SendRequest> = {}): OutboundContentError {
  try {
    messageBody(request(content, overrides));
  } catch (error) {
    expect(error).toBeInstanceOf(OutboundContentError);
    return error as OutboundContentError;
  }
  throw new Error('expected an OutboundContentError');
}

const text = (t: string): OutboundContent => ({ type: 'text', text: t });

describe('addressing', () => {
  it('sends to a phone by `to`, digits without the plus', () => {
    const body = messageBody(request(text('hi')));
    expect(body).toMatchObject({ messaging_product: 'whatsapp', recipient_type: 'individual', to: '85291234567' });
    expect(body).not.toHaveProperty('recipient');
  });

  it('sends to a BSUID-only customer by `recipient`, never by `to`', () => {
    const body = messageBody(request(text('hi'), { to: BSUID }));
    expect(body).toMatchObject({ recipient: 'US.13491208655302741918', recipient_type: 'individual' });
    expect(body).not.toHaveProperty('to');
  });

  it('accepts a parent BSUID as recipient', () => {
    expect(messageBody(request(text('hi'), { to: { bsuid: 'US.ENT.11815799212886844830' } }))).toMatchObject({ recipient: 'US.ENT.11815799212886844830' });
  });

  it('refuses a BSUID passed as a phone, so it can never land in `to`', () => {
    expect(refusal(text('hi'), { to: { phone: 'US.13491208655302741918' } }).field).toBe('to.phone');
  });

  it('refuses a malformed BSUID and an address with neither identity', () => {
    expect(refusal(text('hi'), { to: { bsuid: '13491208655302741918' } }).field).toBe('to.bsuid');
    expect(refusal(text('hi'), { to: {} as never }).field).toBe('to');
  });

  it('tells a BSUID address from a phone address', () => {
    expect(isBsuidAddress(BSUID)).toBe(true);
    expect(isBsuidAddress(PHONE)).toBe(false);
  });
});

describe('envelope', () => {
  it('carries our outbound id as biz_opaque_callback_data', () => {
    expect(messageBody(request(text('hi')))).toMatchObject({ biz_opaque_callback_data: 'out#01HZX' });
  });

  it('refuses callback data over Meta’s 512 characters', () => {
    expect(refusal(text('hi'), { callbackData: 'x'.repeat(513) }).field).toBe('callbackData');
  });

  it('quotes the customer’s message with context.message_id when replying', () => {
    expect(messageBody(request(text('hi'), { replyTo: 'wamid.IN1' }))).toMatchObject({ context: { message_id: 'wamid.IN1' } });
    expect(messageBody(request(text('hi')))).not.toHaveProperty('context');
  });
});

describe('text', () => {
  it('builds a text message with preview_url when asked', () => {
    expect(messageBody(request({ type: 'text', text: 'see https://x.example', previewUrl: true }))).toMatchObject({
      type: 'text',
      text: { body: 'see https://x.example', preview_url: true },
    });
    expect((messageBody(request(text('plain'))).text as object)).toEqual({ body: 'plain' });
  });

  it('accepts 4096 characters and refuses 4097, counting an emoji as one', () => {
    expect(() => messageBody(request(text('😀'.repeat(4096))))).not.toThrow();
    const error = refusal(text('a'.repeat(4097)));
    expect(error.field).toBe('content.text');
    expect(error.message).toContain('4096');
  });

  it('refuses an empty text', () => {
    expect(refusal(text('  ')).field).toBe('content.text');
  });
});

describe('template', () => {
  it('sends positional parameters as an ordered body list', () => {
    const body = messageBody(request({ type: 'template', name: 'order_update', language: 'en_US', parameters: ['Ada', 'A-1'] }));
    expect(body).toMatchObject({
      type: 'template',
      template: {
        name: 'order_update',
        language: { code: 'en_US' },
        components: [{ type: 'body', parameters: [{ type: 'text', text: 'Ada' }, { type: 'text', text: 'A-1' }] }],
      },
    });
  });

  it('sends named parameters with parameter_name', () => {
    const body = messageBody(request({ type: 'template', name: 'order_confirmation', language: 'en_US', parameters: { first_name: 'Jessica', order_number: 'SKBUP2' } }));
    expect((body.template as { components: unknown }).components).toEqual([
      {
        type: 'body',
        parameters: [
          { type: 'text', parameter_name: 'first_name', text: 'Jessica' },
          { type: 'text', parameter_name: 'order_number', text: 'SKBUP2' },
        ],
      },
    ]);
  });

  it('leaves components out of a template without parameters', () => {
    expect(messageBody(request({ type: 'template', name: 'hello_world', language: 'en_US' })).template).toEqual({ name: 'hello_world', language: { code: 'en_US' } });
  });

  it('refuses an empty parameter value and a parameter name Meta does not allow', () => {
    expect(refusal({ type: 'template', name: 't', language: 'en', parameters: ['Ada', ''] }).field).toBe('content.parameters.1');
    expect(refusal({ type: 'template', name: 't', language: 'en', parameters: { 'First Name': 'Ada' } }).field).toBe('content.parameters.First Name');
  });
});

describe('reply buttons', () => {
  const buttons = (n: number, title = (i: number) => `Option ${i}`) => Array.from({ length: n }, (_, i) => ({ id: `b${i}`, title: title(i) }));

  it('builds an interactive button message with header and footer', () => {
    const body = messageBody(request({ type: 'buttons', body: 'Pick one', header: 'Hi', footer: 'Thanks', buttons: buttons(2) }));
    expect(body).toMatchObject({
      type: 'interactive',
      interactive: {
        type: 'button',
        header: { type: 'text', text: 'Hi' },
        body: { text: 'Pick one' },
        footer: { text: 'Thanks' },
        action: { buttons: [{ type: 'reply', reply: { id: 'b0', title: 'Option 0' } }, { type: 'reply', reply: { id: 'b1', title: 'Option 1' } }] },
      },
    });
  });

  it('refuses a fourth button and a message without buttons', () => {
    expect(refusal({ type: 'buttons', body: 'b', buttons: buttons(4) }).message).toContain('not 4');
    expect(refusal({ type: 'buttons', body: 'b', buttons: [] }).field).toBe('content.buttons');
  });

  it('refuses a button title over 20 characters, naming the button', () => {
    const error = refusal({ type: 'buttons', body: 'b', buttons: [{ id: 'a', title: 'ok' }, { id: 'b', title: 'x'.repeat(21) }] });
    expect(error.field).toBe('content.buttons.1.title');
    expect(error.message).toContain('20');
  });

  it('refuses duplicate titles and ids, and an id over 256 characters', () => {
    expect(refusal({ type: 'buttons', body: 'b', buttons: buttons(2, () => 'Same') }).message).toContain('"Same" appears twice');
    expect(refusal({ type: 'buttons', body: 'b', buttons: [{ id: 'x'.repeat(257), title: 'ok' }] }).field).toBe('content.buttons.0.id');
  });

  it('refuses a body over 1024 and a header over 60 characters', () => {
    expect(refusal({ type: 'buttons', body: 'x'.repeat(1025), buttons: buttons(1) }).field).toBe('content.body');
    expect(refusal({ type: 'buttons', body: 'b', header: 'x'.repeat(61), buttons: buttons(1) }).field).toBe('content.header');
  });
});

describe('list', () => {
  const rows = (n: number, prefix = 'r') => Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i}`, title: `Row ${i}` }));

  it('builds an interactive list with sections, rows and descriptions', () => {
    const body = messageBody(
      request({ type: 'list', body: 'Choose', button: 'Menu', sections: [{ title: 'Sizes', rows: [{ id: 's', title: 'Small', description: 'for one' }] }] }),
    );
    expect(body).toMatchObject({
      type: 'interactive',
      interactive: {
        type: 'list',
        body: { text: 'Choose' },
        action: { button: 'Menu', sections: [{ title: 'Sizes', rows: [{ id: 's', title: 'Small', description: 'for one' }] }] },
      },
    });
  });

  it('accepts ten rows in all and refuses eleven across sections', () => {
    expect(() => messageBody(request({ type: 'list', body: 'b', button: 'Menu', sections: [{ title: 'A', rows: rows(5, 'a') }, { title: 'B', rows: rows(5, 'b') }] }))).not.toThrow();
    const error = refusal({ type: 'list', body: 'b', button: 'Menu', sections: [{ title: 'A', rows: rows(6, 'a') }, { title: 'B', rows: rows(5, 'b') }] });
    expect(error.field).toBe('content.sections');
    expect(error.message).toContain('not 11');
  });

  it('requires a section title when there are several sections', () => {
    expect(refusal({ type: 'list', body: 'b', button: 'Menu', sections: [{ rows: rows(1, 'a') }, { title: 'B', rows: rows(1, 'b') }] }).field).toBe('content.sections.0.title');
    expect(() => messageBody(request({ type: 'list', body: 'b', button: 'Menu', sections: [{ rows: rows(2) }] }))).not.toThrow();
  });

  it('refuses a list button over 20, a row title over 24 and a description over 72 characters', () => {
    expect(refusal({ type: 'list', body: 'b', button: 'x'.repeat(21), sections: [{ rows: rows(1) }] }).field).toBe('content.button');
    expect(refusal({ type: 'list', body: 'b', button: 'Menu', sections: [{ rows: [{ id: 'a', title: 'x'.repeat(25) }] }] }).field).toBe('content.sections.0.rows.0.title');
    expect(refusal({ type: 'list', body: 'b', button: 'Menu', sections: [{ rows: [{ id: 'a', title: 'a', description: 'x'.repeat(73) }] }] }).field).toBe(
      'content.sections.0.rows.0.description',
    );
  });

  it('refuses a section without rows and duplicate row ids', () => {
    expect(refusal({ type: 'list', body: 'b', button: 'Menu', sections: [{ rows: [] }] }).field).toBe('content.sections.0.rows');
    expect(refusal({ type: 'list', body: 'b', button: 'Menu', sections: [{ title: 'A', rows: rows(1) }, { title: 'B', rows: rows(1) }] }).message).toContain('row id "r0"');
  });
});

describe('media', () => {
  it('sends an image by media id with a caption', () => {
    expect(messageBody(request({ type: 'image', mediaId: '1479537139650973', caption: 'Our shop' }))).toMatchObject({
      type: 'image',
      image: { id: '1479537139650973', caption: 'Our shop' },
    });
  });

  it('sends a document by https link with a filename', () => {
    expect(messageBody(request({ type: 'document', link: 'https://cdn.example/invoice.pdf', filename: 'invoice.pdf' }))).toMatchObject({
      type: 'document',
      document: { link: 'https://cdn.example/invoice.pdf', filename: 'invoice.pdf' },
    });
  });

  it('needs exactly one of media id and link', () => {
    expect(refusal({ type: 'image', mediaId: '1', link: 'https://x.example/a.png' }).field).toBe('content.mediaId');
    expect(refusal({ type: 'image' }).field).toBe('content.mediaId');
  });

  it('refuses a link that is not https, a filename on an image and a caption over 1024 characters', () => {
    expect(refusal({ type: 'image', link: 'http://x.example/a.png' }).field).toBe('content.link');
    expect(refusal({ type: 'image', mediaId: '1', filename: 'a.png' }).field).toBe('content.filename');
    expect(refusal({ type: 'document', mediaId: '1', caption: 'x'.repeat(1025) }).field).toBe('content.caption');
  });
});
