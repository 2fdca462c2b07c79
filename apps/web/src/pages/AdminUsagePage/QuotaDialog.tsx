import type { QuotaLimits, QuotaSubject } from '@studio/protocol';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { setQuota } from '../../api/quotas.ts';
import { Alert } from '../../components/Alert.tsx';
import { Button } from '../../components/Button.tsx';
import { Dialog } from '../../components/Dialog.tsx';
import { TextField } from '../../components/Field.tsx';
import { useToast } from '../../components/Toaster.tsx';

type Form = Record<keyof QuotaLimits, string>;

/** The form shows memory and disk in GiB; the API counts MiB. */
const GIB_FIELDS = new Set<keyof QuotaLimits>(['memoryMiB', 'diskMiB']);

function toForm(limits: QuotaLimits): Form {
  const text = (key: keyof QuotaLimits) => {
    const value = limits[key];
    if (value === null) return '';
    return String(GIB_FIELDS.has(key) ? value / 1024 : value);
  };
  return {
    runningWorkspaces: text('runningWorkspaces'),
    cpus: text('cpus'),
    memoryMiB: text('memoryMiB'),
    diskMiB: text('diskMiB'),
    aiUsdPerMonth: text('aiUsdPerMonth'),
  };
}

/** The limits typed, or the first field that is not a number ≥ 0. */
function fromForm(form: Form): QuotaLimits | { field: keyof QuotaLimits } {
  const limits = {} as QuotaLimits;
  for (const key of Object.keys(form) as (keyof QuotaLimits)[]) {
    const text = form[key].trim();
    if (text === '') {
      limits[key] = null;
      continue;
    }
    const value = Number(text);
    if (!Number.isFinite(value) || value < 0) return { field: key };
    limits[key] =
      key === 'runningWorkspaces'
        ? Math.floor(value)
        : GIB_FIELDS.has(key)
          ? Math.round(value * 1024)
          : value;
  }
  return limits;
}

/** An admin sets a person's or team's limits; a blank field is no limit. */
export function QuotaDialog({ subject, onClose }: { subject: QuotaSubject; onClose: () => void }) {
  const formId = useId();
  const toast = useToast();
  const queryClient = useQueryClient();
  const [form, setForm] = useState<Form>(() => toForm(subject.limits));
  const [invalid, setInvalid] = useState<keyof QuotaLimits | null>(null);
  const save = useMutation({
    mutationFn: (limits: QuotaLimits) => setQuota(subject.kind, subject.name, limits),
    onSuccess: () => {
      toast(`Saved the limits of ${subject.name}.`);
      void queryClient.invalidateQueries({ queryKey: ['admin', 'usage'] });
      onClose();
    },
  });
  const field = (key: keyof QuotaLimits, label: string, hint: string) => (
    <TextField
      label={label}
      inputMode="decimal"
      placeholder="no limit"
      value={form[key]}
      hint={hint}
      error={invalid === key ? 'A number, 0 or more; blank for no limit.' : undefined}
      onChange={(event) => {
        setInvalid(null);
        setForm({ ...form, [key]: event.target.value });
      }}
    />
  );
  const whose = subject.kind === 'team' ? `team ${subject.name}` : subject.name;

  return (
    <Dialog
      open
      onClose={onClose}
      title={`Limits of ${whose}`}
      description={
        subject.kind === 'team'
          ? 'A team’s limits cap its people together. Blank is no limit.'
          : 'Checked before a workspace is created or started, and before an AI run. Blank is no limit.'
      }
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" form={formId} variant="primary" pending={save.isPending}>
            Save limits
          </Button>
        </>
      }
    >
      <form
        id={formId}
        className="grid grid-cols-2 gap-4"
        onSubmit={(event) => {
          event.preventDefault();
          const limits = fromForm(form);
          if ('field' in limits) setInvalid(limits.field);
          else save.mutate(limits);
        }}
      >
        {save.error ? (
          <div className="col-span-2">
            <Alert tone="error">{save.error.message}</Alert>
          </div>
        ) : null}
        {field('runningWorkspaces', 'Running workspaces', 'At the same time.')}
        {field('cpus', 'CPUs', 'Total of the running ones.')}
        {field('memoryMiB', 'Memory (GiB)', 'Total of the running ones.')}
        {field('diskMiB', 'Disk (GiB)', 'Every workspace, running or not.')}
        {field('aiUsdPerMonth', 'AI spend ($ a month)', 'Renews on the 1st.')}
      </form>
    </Dialog>
  );
}
