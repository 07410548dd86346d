/**
 * The courier adapter the configuration names. Settings (docs/couriers.md): COURIER_API_BASE
 * (default https://api.aftership.com), COURIER_API_VERSION (default
 * {@link DEFAULT_AFTERSHIP_API_VERSION}); secrets COURIER_API_KEY (read here, before every request,
 * so a rotated key takes effect without a redeploy) and COURIER_WEBHOOK_SECRET (for
 * parseAfterShipWebhook at the webhook route).
 */
import { AfterShipCourier, DEFAULT_AFTERSHIP_API_VERSION } from './aftership.ts';
import type { CourierAdapter } from './port.ts';

export interface CourierConfig {
  readonly kind: 'aftership';
  readonly baseUrl: string;
  readonly apiVersion: string;
  /** Zone of carrier dates without an offset when the destination's is not known (default UTC). */
  readonly timeZone?: string | undefined;
}

export function createCourier(config: CourierConfig, apiKey: () => Promise<string>): CourierAdapter {
  switch (config.kind) {
    case 'aftership':
      return new AfterShipCourier({
        baseUrl: config.baseUrl,
        apiVersion: config.apiVersion || DEFAULT_AFTERSHIP_API_VERSION,
        apiKey: async () => {
          const key = await apiKey();
          if (!key) throw new Error('COURIER_API_KEY is not set in the secret');
          return key;
        },
        ...(config.timeZone && { timeZone: config.timeZone }),
      });
  }
}
