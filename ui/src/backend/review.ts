// The named nurse review's commands (this folder is the only code that calls invoke).
import { invoke } from '@tauri-apps/api/core';
import type { ReviewPeriod, ReviewView } from './bindings';

export type { ReviewPeriod, ReviewRow, ReviewView } from './bindings';

/** Views with plans found at the user's organisation, from the central audit log. */
export function review(period: ReviewPeriod): Promise<ReviewView> {
  return invoke<ReviewView>('review', { period });
}

/** Save the review as CSV in the downloads folder; resolves to the file's path. */
export function saveReviewCsv(period: ReviewPeriod): Promise<string> {
  return invoke<string>('save_review_csv', { period });
}
