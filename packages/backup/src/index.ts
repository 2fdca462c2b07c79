export * from './format.ts';
export * from './retention.ts';
export * from './write.ts';
