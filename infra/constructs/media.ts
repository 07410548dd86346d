/**
 * Media (MD-1): the media function downloads a WhatsApp media file, recompresses it with sharp
 * (native linux-arm64 binaries installed next to the bundle, not bundled) and stores it under
 * media/ in the bucket — the only prefix it can write.
 */
import { Construct } from 'constructs';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { ENV } from '#shared/resources';
import { acknowledge } from '../compliance.ts';
import { INSTALLED_PACKAGES } from '../bundling.ts';
import { AppFunction } from './app-function.ts';
import type { FunctionDefaults } from './crm-sync.ts';
import type { JobQueue } from './job-queue.ts';
import type { AppSecrets } from './secrets.ts';
import type { ConversationStorage } from './storage.ts';

/** The media function's memory size, chosen from the bench's peak RSS (docs/media.md). */
export const MEDIA_FUNCTION_MEMORY_MB = 1024;

export const SOCIAL_MESSAGING_MEDIA_ACTION = 'social-messaging:GetWhatsAppMessageMedia';

export interface MediaProcessingProps {
  readonly defaults: FunctionDefaults;
  readonly mediaJobs: JobQueue;
  readonly storage: ConversationStorage;
  readonly secrets: AppSecrets;
  /** Some account is on AWS End User Messaging Social: its media comes through GetWhatsAppMessageMedia. */
  readonly socialMessaging?: boolean;
}

export class MediaProcessing extends Construct {
  readonly mediaFunction: AppFunction;

  constructor(scope: Construct, id: string, props: MediaProcessingProps) {
    super(scope, id);
    const { defaults, mediaJobs, storage, secrets } = props;

    this.mediaFunction = new AppFunction(this, 'Media', {
      ...defaults,
      name: 'media',
      description: 'Downloads WhatsApp media, recompresses it with sharp and stores it under media/',
      // Measured (npm run bench, media): a batch of 12 MP photos adds 80–160 MB to the process, a
      // 100 MB document streamed 50–70 MB; with Node and the SDK (~100 MB) the peak is ~260 MB.
      // 1 GB keeps 4× headroom and the CPU share that keeps a 12 MP recompression near 0.2 s.
      memoryMb: MEDIA_FUNCTION_MEMORY_MB,
      // ≤ 1/6 of the media queue visibility timeout (360 s → 60 s).
      timeout: mediaJobs.maxConsumerTimeout,
      invocation: 'queue',
      install: INSTALLED_PACKAGES.media,
    });
    // The Graph API access token is needed to download the media file.
    secrets.allowRead(this.mediaFunction);
    // The message row records where its media went.
    storage.allowTableReadWrite(this.mediaFunction);
    // Put the stored file; get and delete: a download whose hash did not match, a staged file of
    // End User Messaging Social (GetWhatsAppMessageMedia writes it under media/ first).
    storage.allowObjects(this.mediaFunction, 'media', ['s3:PutObject', 's3:GetObject', 's3:DeleteObject']);
    mediaJobs.consumeWith(this.mediaFunction);
    // A media that failed for good goes to the DLQ at once, with its reason (the alarm sees it).
    mediaJobs.deadLetterQueue.grantSendMessages(this.mediaFunction.role);
    this.mediaFunction.function.addEnvironment(ENV.mediaDlqUrl, mediaJobs.deadLetterQueue.queueUrl);
    if (props.socialMessaging) {
      this.mediaFunction.role.addToPrincipalPolicy(new PolicyStatement({ actions: [SOCIAL_MESSAGING_MEDIA_ACTION], resources: ['*'] }));
      acknowledge(
        this.mediaFunction,
        'AwsSolutions-IAM5[Resource::*]',
        'X-Ray has no resource-level permissions; social-messaging:GetWhatsAppMessageMedia is granted on "*" because the numbers (origination phone-number ids) are linked in AWS End User Messaging Social after the deploy and change without one. The grant is that single action.',
      );
    }
  }
}
