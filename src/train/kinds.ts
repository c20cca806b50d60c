/** What `signweave train` can train: the three CTC experts' heads, the router and the fusion module. */
export const TRAIN_KINDS = ['sign', 'fingerspell', 'lipread', 'router', 'fusion'] as const;
export type TrainKind = (typeof TRAIN_KINDS)[number];
