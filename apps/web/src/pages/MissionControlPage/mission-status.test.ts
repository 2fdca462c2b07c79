import { describe, expect, it } from 'vitest';
import { extendedTtl, firstLine, formatTimeLeft, stepStates } from './mission-status.ts';

const states = (...args: Parameters<typeof stepStates>) =>
  stepStates(...args).map((item) => item.state);

describe('stepStates', () => {
  it('marks the steps before the current one done', () => {
    expect(states('building', null)).toEqual(['done', 'current', 'todo', 'todo']);
    expect(states('queued', null)).toEqual(['current', 'todo', 'todo', 'todo']);
  });

  it('shows a ready mission as all done', () => {
    expect(states('ready', null)).toEqual(['done', 'done', 'done', 'done']);
  });

  it('marks the step a failure happened at', () => {
    expect(states('failed', 'starting')).toEqual(['done', 'done', 'failed', 'todo']);
    expect(states('failed', null)).toEqual(['todo', 'todo', 'todo', 'todo']);
  });

  it('keeps the steps a stopped mission got through', () => {
    expect(states('stopped', 'ready')).toEqual(['done', 'done', 'done', 'done']);
    expect(states('stopped', 'building')).toEqual(['done', 'done', 'todo', 'todo']);
  });
});

describe('formatTimeLeft', () => {
  it('counts hours, minutes, then the last seconds', () => {
    expect(formatTimeLeft(65 * 60_000)).toBe('1 h 05 min');
    expect(formatTimeLeft(42 * 60_000)).toBe('42 min');
    expect(formatTimeLeft(4 * 60_000 + 5_000)).toBe('4:05');
    expect(formatTimeLeft(0)).toBe('any moment now');
  });
});

describe('extendedTtl', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');

  it('adds to what is left', () => {
    expect(extendedTtl('2026-01-01T12:10:00Z', now, 30)).toBe(40);
  });

  it('counts from now when the time is up or unknown', () => {
    expect(extendedTtl('2026-01-01T11:00:00Z', now, 30)).toBe(30);
    expect(extendedTtl(null, now, 30)).toBe(30);
  });

  it('stays within what the server accepts', () => {
    expect(extendedTtl('2026-01-20T12:00:00Z', now, 30)).toBe(7 * 24 * 60);
  });
});

describe('firstLine', () => {
  it('answers the first line of the requirement', () => {
    expect(firstLine('  Compare laptops\nand make a sheet')).toBe('Compare laptops');
  });
});
