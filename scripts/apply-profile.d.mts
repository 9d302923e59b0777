export interface ScaleProfile {
  summary: string;
  /** Labels to set for one function; null removes the label. */
  labels(functionName: string): Record<string, string | number | boolean | null>;
}
/** The per-clip stages (the pipeline table's clip stages). */
export const FAN_OUT: ReadonlySet<string>;
export const SCALE_PROFILES: Record<'cold' | 'warm' | 'burst', ScaleProfile>;
export function applyProfile(stackText: string, profileName: string): string;
/** The secrets that hold static S3 credentials. */
export const S3_SECRETS: readonly string[];
/** The stack without the S3 secrets: credentials from the AWS SDK default chain (IAM roles). */
export function withoutS3Secrets(stackText: string): string;
