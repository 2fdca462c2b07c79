import type { Mission } from '@studio/protocol';
import { describe, expect, it } from 'vitest';
import { deployedMissionId, missionPollInterval } from './missions.ts';

function mission(id: string, status: Mission['status'] = 'ready'): Mission {
  return {
    id,
    requirement: 'Compare laptops',
    template: 'desktop',
    desktop: true,
    status,
    statusReason: null,
    workspace: `mission-${id}`,
    workerConversationId: null,
    workerRunId: null,
    worker: null,
    expiresAt: null,
    keep: false,
    createdAt: '2026-01-01T12:00:00Z',
    updatedAt: '2026-01-01T12:00:00Z',
  };
}

describe('deployedMissionId', () => {
  const missions = [mission('m2'), mission('m1')];

  it('answers the mission the tool result names', () => {
    expect(deployedMissionId('Deployed mission m1 from template desktop.', missions)).toBe('m1');
  });

  it('falls back to the newest mission', () => {
    expect(deployedMissionId('Deployed.', missions)).toBe('m2');
    expect(deployedMissionId('mission unknown is queued', missions)).toBe('m2');
    expect(deployedMissionId(undefined, [])).toBeNull();
  });
});

describe('missionPollInterval', () => {
  it('polls quickly only while the mission deploys', () => {
    expect(missionPollInterval(mission('m', 'building'))).toBe(1000);
    expect(missionPollInterval(mission('m', 'ready'))).toBe(5000);
    expect(missionPollInterval(undefined)).toBe(5000);
  });
});
