/** What `signweave train` can train: the three CTC experts' heads, the router, the fusion module and the LLaMA decoder. */
export const TRAIN_KINDS = ['sign', 'fingerspell', 'lipread', 'router', 'fusion', 'decoder'] as const;
export type TrainKind = (typeof TRAIN_KINDS)[number];
