/**
 * `npm start`: the whole system on this machine, no AWS account needed. Settings come from the
 * environment (README: Configuration); data is kept under SCRM_DATA_DIR across restarts.
 */
// Warnings and errors only, unless asked otherwise: set before the logger is created.
process.env['POWERTOOLS_LOG_LEVEL'] ??= 'WARN';
const { startLocalStack, LOCAL_DEFAULTS } = await import('./stack.ts');

const stack = await startLocalStack({
  env: process.env,
  crmPort: Number(process.env['LOCAL_CRM_PORT'] ?? Number(process.env['PORT'] ?? LOCAL_DEFAULTS.PORT) + 1),
  graphPort: Number(process.env['LOCAL_GRAPH_PORT'] ?? Number(process.env['PORT'] ?? LOCAL_DEFAULTS.PORT) + 2),
  courierPort: Number(process.env['LOCAL_COURIER_PORT'] ?? Number(process.env['PORT'] ?? LOCAL_DEFAULTS.PORT) + 3),
  geocoderPort: Number(process.env['LOCAL_GEOCODER_PORT'] ?? Number(process.env['PORT'] ?? LOCAL_DEFAULTS.PORT) + 4),
});

const token = stack.runtime.secrets.verifyToken;
const crmKind = stack.runtime.config.crm.kind;
console.log(`
WhatsApp SCRM is running locally.

  Webhook (Meta callback URL)  ${stack.webhookUrl}
  Verify token                 ${token}
  Health                       ${stack.url}/health
  Contacts and messages        ${stack.url}/local/contacts
  Kept-raw webhook content     ${stack.url}/local/raw-events
  Metrics                      ${stack.url}/local/metrics
  API (send, contacts)         ${stack.url}/api/…   Authorization: Bearer ${stack.env['SCRM_API_TOKEN'] ?? LOCAL_DEFAULTS.SCRM_API_TOKEN}
  Graph API (WhatsApp)         ${stack.graphUrl}${stack.graph ? '   (local stand-in: sends, faults; open it in a browser)' : ''}
  CRM (${crmKind})${' '.repeat(Math.max(1, 23 - crmKind.length))}${stack.crmUrl}${stack.crmStandIn ? '   (local stand-in; open it in a browser)' : ''}
  Batch tasks and exports      npm run batch -- <task>   ·   ${stack.url}/local/exports
  Courier (AfterShip-shaped)   ${stack.env['COURIER_API_BASE']}${stack.courier ? '   (local stand-in: POST /local/advance moves a parcel)' : ''}
  Geocoder (Amazon Location)   ${stack.geocoderUrl ?? 'off'}
  Automation timers            ${stack.url}/local/timers
  Agents                       ${stack.url}/api/agents
  DynamoDB API                 ${stack.services.overrides.dynamodbEndpoint}
  SQS API                      ${stack.services.overrides.sqsEndpoint}
  Data directory               ${stack.env['SCRM_DATA_DIR'] ?? LOCAL_DEFAULTS.SCRM_DATA_DIR}

Try it: npm run simulate      Stop: Ctrl-C
`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping…');
    stack.stop().then(
      () => {
        console.log('Stopped. Data kept in', stack.env['SCRM_DATA_DIR'] ?? LOCAL_DEFAULTS.SCRM_DATA_DIR);
        process.exit(0);
      },
      (error: unknown) => {
        console.error('Stopped with an error:', error);
        process.exit(1);
      },
    );
  });
}
export {};
