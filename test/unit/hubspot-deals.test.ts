import { describe, expect, it } from 'vitest';
import { CrmError } from '#shared/crm/port';
import { dealProperties } from '#shared/crm/hubspot/opportunities';

const settings = { pipeline: 'default', stage: 'appointmentscheduled', closeDateDays: undefined };
const input = { opportunityId: 'wamid.1', contactCrmId: '1', sku: 'SKU-1', createdAt: Date.parse('2026-01-31T00:00:00Z') };

describe('dealProperties', () => {
  it('builds the deal from the opportunity, without optional values it does not have', () => {
    expect(dealProperties(input, settings)).toEqual({
      dealname: 'WhatsApp: SKU-1',
      pipeline: 'default',
      dealstage: 'appointmentscheduled',
      whatsapp_opportunity_id: 'wamid.1',
      whatsapp_sku: 'SKU-1',
    });
  });

  it('writes amount, currency and a close date when given', () => {
    const values = dealProperties(
      { ...input, productName: '  Blue shoe ', amount: 0, currency: 'pln' },
      { ...settings, stage: 'qualifiedtobuy', closeDateDays: 30 },
    );
    expect(values).toMatchObject({
      dealname: 'WhatsApp: Blue shoe',
      dealstage: 'qualifiedtobuy',
      amount: '0',
      whatsapp_currency: 'PLN',
      closedate: '2026-03-02T00:00:00.000Z',
    });
  });

  it('refuses a non-finite amount as permanent', () => {
    expect(() => dealProperties({ ...input, amount: Number.NaN }, settings)).toThrow(CrmError);
  });
});
