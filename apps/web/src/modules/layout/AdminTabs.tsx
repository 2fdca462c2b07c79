import { NavLink } from 'react-router';

const tab = ({ isActive }: { isActive: boolean }) =>
  `-mb-px border-b-2 px-1 pb-2 text-sm font-medium ${
    isActive ? 'border-accent text-fg' : 'border-transparent text-muted hover:text-fg'
  }`;

/** The admin area's sections. */
export function AdminTabs() {
  return (
    <nav aria-label="Admin" className="mb-6 flex gap-6 border-b border-line">
      <NavLink to="/admin/users" className={tab}>
        Users and teams
      </NavLink>
      <NavLink to="/admin/usage" className={tab}>
        Usage and quotas
      </NavLink>
      <NavLink to="/admin/templates" className={tab}>
        Templates
      </NavLink>
      <NavLink to="/admin/backups" className={tab}>
        Backups
      </NavLink>
    </nav>
  );
}
