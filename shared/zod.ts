/**
 * English messages for zod's tree-shakable build (`zod/mini`), which the code on the webhook's
 * path uses: the classic build adds ~400 KB to a bundle, mini ~20 KB (README: performance).
 * Import it for its effect next to `import * as z from 'zod/mini'`.
 */
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());
