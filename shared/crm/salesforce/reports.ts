/**
 * The week's service quality (SY-6) as one WhatsApp_Service_Report__c record per report id, by
 * an upsert on the External ID + Unique Report_Id__c: a rerun of the week rewrites the same
 * record with the figures as they are now (the values are ours, nobody edits them).
 */
import type { CrmServiceReport } from '../port.ts';
import type { SalesforceApi } from './api.ts';
import { recordError } from './api.ts';
import { cut, dateTime, externalKey, SERVICE_REPORT } from './fields.ts';

export async function recordServiceReport(api: SalesforceApi, report: CrmServiceReport): Promise<{ recorded: boolean; calls: number }> {
  const record = {
    Name: cut(report.reportId, 80),
    [SERVICE_REPORT.reportId]: externalKey(report.reportId),
    [SERVICE_REPORT.periodStart]: dateTime(report.periodStart),
    [SERVICE_REPORT.periodEnd]: dateTime(report.periodEnd),
    [SERVICE_REPORT.medianFirstResponseSeconds]: report.medianFirstResponseMs === undefined ? null : Math.round(report.medianFirstResponseMs / 100) / 10,
    [SERVICE_REPORT.conversations]: report.conversations,
    [SERVICE_REPORT.unanswered]: report.unanswered,
  };
  const [result] = await api.upsertCollection(SERVICE_REPORT.object, SERVICE_REPORT.reportId, [record], 'service report upsert');
  if (!result?.success) throw recordError(result ?? { success: false }, 'service report upsert');
  return { recorded: true, calls: api.calls };
}
