/**
 * Media (MD-1): the media function downloads a WhatsApp media file, recompresses it with sharp
 * (native linux-arm64 binaries installed next to the bundle, not bundled) and stores it under
 * media/ in the bucket — the only prefix it can write.
 */
import { Construct } from 'constructs';
import { INSTALLED_PACKAGES } from '../bundling.ts';
import { AppFunction } from './app-function.ts';
import type { FunctionDefaults } from './crm-sync.ts';
import type { JobQueue } from './job-queue.ts';
import type { AppSecrets } from './secrets.ts';
import type { ConversationStorage } from './storage.ts';

export interface MediaProcessingProps {
  readonly defaults: FunctionDefaults;
  readonly mediaJobs: JobQueue;
  readonly storage: ConversationStorage;
  readonly secrets: AppSecrets;
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
      // sharp decodes whole images in memory; 1.5 GB also buys the CPU share that makes it fast.
      memoryMb: 1536,
      // ≤ 1/6 of the media queue visibility timeout (360 s → 60 s).
      timeout: mediaJobs.maxConsumerTimeout,
      invocation: 'queue',
      install: INSTALLED_PACKAGES.media,
    });
    // The Graph API access token is needed to download the media file.
    secrets.allowRead(this.mediaFunction);
    // The message row records where its media went.
    storage.allowTableReadWrite(this.mediaFunction);
    storage.allowObjectWrite(this.mediaFunction, 'media');
    mediaJobs.consumeWith(this.mediaFunction);
  }
}
