import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { changePassword } from '../../api/auth.ts';
import { fieldErrors, hasCode } from '../../api/http.ts';
import { Alert } from '../../components/Alert.tsx';
import { Button } from '../../components/Button.tsx';
import { Card } from '../../components/Card.tsx';
import { TextField } from '../../components/Field.tsx';
import { useToast } from '../../components/Toaster.tsx';

/** Change the password; the server ends every other session, this one stays. Never drafted. */
export function PasswordSection() {
  const toast = useToast();
  const [currentPassword, setCurrentPassword] = useState('');
  const [newPassword, setNewPassword] = useState('');

  const change = useMutation({
    mutationFn: changePassword,
    onSuccess: () => {
      setCurrentPassword('');
      setNewPassword('');
      toast('Password changed. Your other sessions were signed out.');
    },
  });

  const fields = fieldErrors(change.error);
  const wrongCurrent = hasCode(change.error, 'invalid_credentials');
  const otherError =
    change.error && !wrongCurrent && Object.keys(fields).length === 0 ? change.error.message : null;

  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        change.mutate({ currentPassword, newPassword });
      }}
    >
      <Card
        id="password"
        title="Password"
        description="Changing your password signs you out on every other device."
        footer={
          <Button type="submit" variant="primary" pending={change.isPending}>
            Change password
          </Button>
        }
      >
        <div className="grid max-w-xl gap-4">
          {otherError ? <Alert tone="error">{otherError}</Alert> : null}
          <TextField
            label="Current password"
            type="password"
            name="current-password"
            autoComplete="current-password"
            required
            value={currentPassword}
            onChange={(event) => setCurrentPassword(event.target.value)}
            error={wrongCurrent ? 'Your current password is not correct.' : fields.currentPassword}
          />
          <TextField
            label="New password"
            type="password"
            name="new-password"
            autoComplete="new-password"
            required
            minLength={10}
            maxLength={128}
            value={newPassword}
            onChange={(event) => setNewPassword(event.target.value)}
            hint="At least 10 characters. A long passphrase is best."
            error={fields.newPassword}
          />
        </div>
      </Card>
    </form>
  );
}
