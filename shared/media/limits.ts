/**
 * WhatsApp Cloud API media size limits, in bytes (MD-1).
 *
 * Source: Meta's "Supported media types" table of the Cloud API reference, as repeated by AWS End
 * User Messaging Social ("Supported media file types and sizes in WhatsApp") and by BSP guides:
 * image (image/jpeg, image/png) 5 MB; video (video/mp4, video/3gpp; H.264 + AAC only) 16 MB;
 * audio (aac, amr, mpeg, mp4, ogg/opus) 16 MB; document (pdf, txt, Office) 100 MB; sticker
 * (image/webp) 100 KB static and 500 KB animated.
 *
 * The documents write "MB" and "KB" without saying whether they mean 10^6 or 2^20 bytes, so the
 * limits here use the decimal reading: it is the smaller one, and a file under it is under both.
 */
export const MEDIA_LIMITS = {
  /** Images (JPEG, PNG): 5 MB. What `compressImage` (shared/media/image.ts) fits images under. */
  image: 5_000_000,
  /** Videos (MP4, 3GPP; H.264 video and AAC audio only): 16 MB. */
  video: 16_000_000,
  /** Audio (AAC, AMR, MP3, M4A, Ogg with the Opus codec): 16 MB. */
  audio: 16_000_000,
  /** Documents (PDF, plain text, Word, Excel, PowerPoint): 100 MB. */
  document: 100_000_000,
  /** Stickers (WebP only; WhatsApp expects 512×512). */
  sticker: {
    /** Static sticker: 100 KB. */
    static: 100_000,
    /** Animated sticker: 500 KB. */
    animated: 500_000,
  },
} as const;
