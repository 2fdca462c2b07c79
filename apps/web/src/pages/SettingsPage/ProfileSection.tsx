import { useMutation } from '@tanstack/react-query';
import { updateProfile } from '../../api/auth.ts';
import { fieldErrors } from '../../api/http.ts';
import { Alert } from '../../components/Alert.tsx';
import { Button } from '../../components/Button.tsx';
import { Card } from '../../components/Card.tsx';
import { TextField } from '../../components/Field.tsx';
import { useToast } from '../../components/Toaster.tsx';
import { useDraft } from '../../modules/drafts/use-draft.ts';
import { useCurrentUser, useSession } from '../../modules/session/SessionProvider.tsx';

/** Display name (kept as a draft across a sign-in round-trip) and the read-only email. */
export function ProfileSection() {
  const user = useCurrentUser();
  const { signedIn } = useSession();
  const toast = useToast();
  const [name, setName, clearName] = useDraft(`${user.id}.profile-name`, user.name);

  const save = useMutation({
    mutationFn: updateProfile,
    onSuccess: (me) => {
      signedIn(me);
      clearName(me.user.name);
      toast('Profile saved.');
    },
  });
  const fields = fieldErrors(save.error);
  const unchanged = name.trim() === user.name;

  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        save.mutate({ name: name.trim() });
      }}
    >
      <Card
        id="profile"
        title="Profile"
        description="How you appear to other people on this server."
        footer={
          <Button type="submit" variant="primary" pending={save.isPending} disabled={unchanged}>
            Save profile
          </Button>
        }
      >
        <div className="grid max-w-xl gap-4">
          {save.error && !fields.name ? <Alert tone="error">{save.error.message}</Alert> : null}
          <TextField
            label="Name"
            name="name"
            autoComplete="name"
            required
            maxLength={100}
            value={name}
            onChange={(event) => setName(event.target.value)}
            error={fields.name}
          />
          <TextField
            label="Email"
            type="email"
            value={user.email}
            readOnly
            hint="Ask an admin if your email address needs to change."
          />
        </div>
      </Card>
    </form>
  );
}
