import { describe, expect, it } from 'vitest';
import { describe as describeHubSpotError } from '#shared/crm/hubspot/http';
import { redact } from '#shared/privacy';

describe('redacting text that came from outside (OP-4)', () => {
  it('drops e-mail addresses, phone numbers, quoted values and bracketed text, and keeps the shape', () => {
    expect(redact('Email jane.doe@example.com is not valid for contact +852 9123 4567 (Jane Doe)')).toBe('Email […] is not valid for contact […] […]');
    expect(redact("Contact 'Chan Tai Man' already has 85291234567")).toBe('Contact […] already has […]');
    expect(redact('Письмо «Иван Петров» ivan@mail.ru')).toBe('Письмо […] […]');
  });

  it('keeps short numbers and quoted lowercase internal names (CRM properties)', () => {
    expect(redact('Property "whatsapp_phone" is unique; 3 errors')).toBe('Property "whatsapp_phone" is unique; 3 errors');
    expect(redact('Property "Jane" is unique')).toBe('Property […] is unique');
  });

  it('is at most 300 characters', () => {
    expect(redact('x '.repeat(1000)).length).toBeLessThanOrEqual(301);
  });

  it("HubSpot's validation answer becomes its property names and error codes", () => {
    const body = {
      status: 'error',
      category: 'VALIDATION_ERROR',
      message: 'Property values were not valid: [{"isValid":false,"message":"Email jane@x.com is invalid","error":"INVALID_EMAIL","name":"email"}]',
    };
    expect(describeHubSpotError(body)).toBe(' VALIDATION_ERROR: Property values were not valid: email INVALID_EMAIL');
    expect(describeHubSpotError('<html>Bad gateway for +85291234567</html>')).toBe(': (a non-JSON answer)');
  });
});
