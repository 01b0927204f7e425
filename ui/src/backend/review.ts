// The named nurse review's commands, called through `call` (./call.ts).
import { call } from './call';
import type { ReviewPeriod, ReviewView } from './bindings';

export type { ReviewPeriod, ReviewRow, ReviewView } from './bindings';

/** Views with plans found at the user's organisation, from the central audit log. */
export function review(period: ReviewPeriod): Promise<ReviewView> {
  return call<ReviewView>('review', { period });
}

/** Save the review as CSV in the downloads folder; resolves to the file's path. */
export function saveReviewCsv(period: ReviewPeriod): Promise<string> {
  return call<string>('save_review_csv', { period });
}
