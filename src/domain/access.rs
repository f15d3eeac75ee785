//! Who may do what: roles and scopes (rule 6). A scope is the caller's organisation and every
//! organisation below it; a trainee's scope is themselves; an administrator's is everything.

use std::collections::HashSet;

use uuid::Uuid;

use super::people::Role;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Administrators: every organisation.
    All,
    /// Coordinators and HR officers: these organisations (their own and all below it).
    Organizations(HashSet<Uuid>),
    /// Everyone else: only themselves.
    Own(Uuid),
}

impl Scope {
    /// The scope of someone with these roles; `subtree` lists their organisation and those below.
    pub fn for_roles(user_id: Uuid, roles: &[Role], subtree: impl FnOnce() -> Vec<Uuid>) -> Scope {
        if roles.contains(&Role::Admin) {
            Scope::All
        } else if Self::needs_subtree(roles) {
            Scope::Organizations(subtree().into_iter().collect())
        } else {
            Scope::Own(user_id)
        }
    }

    /// Does the scope of someone with these roles depend on the organisation tree?
    pub fn needs_subtree(roles: &[Role]) -> bool {
        !roles.contains(&Role::Admin)
            && (roles.contains(&Role::Coordinator) || roles.contains(&Role::Hr))
    }

    pub fn covers_organization(&self, organization_id: Uuid) -> bool {
        match self {
            Scope::All => true,
            Scope::Organizations(ids) => ids.contains(&organization_id),
            Scope::Own(_) => false,
        }
    }

    /// May the caller see this person (who works at `organization_id`)?
    pub fn covers_person(&self, person_id: Uuid, organization_id: Uuid) -> bool {
        match self {
            Scope::Own(me) => *me == person_id,
            other => other.covers_organization(organization_id),
        }
    }

    /// The organisation ids to filter by, `None` meaning no filter (everything).
    pub fn organization_filter(&self) -> Option<Vec<Uuid>> {
        match self {
            Scope::All => None,
            Scope::Organizations(ids) => Some(ids.iter().copied().collect()),
            Scope::Own(_) => Some(Vec::new()),
        }
    }
}

/// Roles that a holder of `actor_roles` may grant: an administrator any; a coordinator
/// `trainee`, `hr` and `coordinator` (within their scope); an HR officer only `trainee`; nobody
/// else any.
pub fn grantable(actor_roles: &[Role]) -> &'static [Role] {
    if actor_roles.contains(&Role::Admin) {
        &Role::ALL
    } else if actor_roles.contains(&Role::Coordinator) {
        &[Role::Coordinator, Role::Hr, Role::Trainee]
    } else if actor_roles.contains(&Role::Hr) {
        &[Role::Trainee]
    } else {
        &[]
    }
}

/// May a holder of `actor_roles` grant every one of `granted`? Staff may always create a person
/// with no role at all.
pub fn may_grant(actor_roles: &[Role], granted: &[Role]) -> bool {
    manages_people(actor_roles) && granted.iter().all(|r| grantable(actor_roles).contains(r))
}

/// Why a change to a person's account is refused (403).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountDenial {
    /// The caller may not grant this role.
    Grant(Role),
    /// Nobody changes their own roles.
    OwnRoles,
    /// Nobody deactivates themselves or sets their own password without the current one
    /// (`/me/password` does that).
    OwnAccess,
    /// The person holds a role the caller could not grant: the caller may not touch them.
    Outranked,
}

impl AccountDenial {
    /// The audit name of the refused action.
    pub fn action(self) -> &'static str {
        match self {
            AccountDenial::Grant(_) => "grant_role",
            AccountDenial::OwnRoles => "change_own_roles",
            AccountDenial::OwnAccess => "change_own_access",
            AccountDenial::Outranked => "change_higher_account",
        }
    }
}

/// What a change does to an account, as far as the grant rule cares.
#[derive(Debug, Clone, Default)]
pub struct AccountChange<'a> {
    /// The roles after the change, when they differ from the roles now.
    pub new_roles: Option<&'a [Role]>,
    pub password: bool,
    pub active: bool,
    /// Anything else about the person (name, workplace, contact).
    pub profile: bool,
}

impl AccountChange<'_> {
    fn touches_anything(&self) -> bool {
        self.new_roles.is_some() || self.password || self.active || self.profile
    }
}

/// The one rule for creating and changing people, for the API, the CSV import, the command line
/// and the pages alike. `actor` is `None` for the command line (an administrator's rights);
/// `target` is the person's id and current roles, `None` for a new person.
///
/// - every role given must be one the caller may grant ([`grantable`]);
/// - nobody changes their own roles or their own access (active flag, password without the
///   current one);
/// - a caller changes another person only where they could grant every role that person holds:
///   HR never touches a coordinator's account, and only an administrator an administrator's.
pub fn check_account_change(
    actor: Option<(uuid::Uuid, &[Role])>,
    target: Option<(uuid::Uuid, &[Role])>,
    change: &AccountChange<'_>,
) -> Result<(), AccountDenial> {
    let Some((actor_id, actor_roles)) = actor else {
        return Ok(());
    };
    if let Some(roles) = change.new_roles {
        if let Some(r) = roles.iter().find(|r| !grantable(actor_roles).contains(r)) {
            return Err(AccountDenial::Grant(*r));
        }
    }
    match target {
        None => Ok(()),
        Some((id, _)) if id == actor_id => {
            if change.new_roles.is_some() {
                Err(AccountDenial::OwnRoles)
            } else if change.active || change.password {
                Err(AccountDenial::OwnAccess)
            } else {
                Ok(())
            }
        }
        Some((_, held)) => {
            if change.touches_anything() && !held.iter().all(|r| grantable(actor_roles).contains(r))
            {
                Err(AccountDenial::Outranked)
            } else {
                Ok(())
            }
        }
    }
}

/// Staff who manage people: administrators, coordinators, HR officers.
pub const STAFF: &[Role] = &[Role::Admin, Role::Coordinator, Role::Hr];

/// Holds one of the [`STAFF`] roles.
pub fn manages_people(roles: &[Role]) -> bool {
    roles.iter().any(|r| STAFF.contains(r))
}

/// How an address is counted: IPv4 as is, IPv6 by its /64 network.
pub fn address_key(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ipv6_addresses_count_by_their_64() {
        let a = address_key("2001:db8:1:2::1".parse().unwrap());
        let b = address_key("2001:db8:1:2:ffff::9".parse().unwrap());
        assert_eq!(a, b);
        assert_eq!(a, "2001:db8:1:2::/64");
        assert_eq!(address_key("::ffff:1.2.3.4".parse().unwrap()), "1.2.3.4");
        assert_eq!(address_key("1.2.3.4".parse().unwrap()), "1.2.3.4");
    }

    use super::*;

    #[test]
    fn admin_scope_covers_everything() {
        let s = Scope::for_roles(Uuid::new_v4(), &[Role::Admin, Role::Trainee], Vec::new);
        assert!(s.covers_organization(Uuid::new_v4()));
        assert_eq!(s.organization_filter(), None);
    }

    #[test]
    fn coordinator_scope_is_the_subtree() {
        let own = Uuid::new_v4();
        let below = Uuid::new_v4();
        let s = Scope::for_roles(Uuid::new_v4(), &[Role::Coordinator], || vec![own, below]);
        assert!(s.covers_organization(own));
        assert!(s.covers_organization(below));
        assert!(!s.covers_organization(Uuid::new_v4()));
    }

    #[test]
    fn trainee_scope_is_only_themselves() {
        let me = Uuid::new_v4();
        let org = Uuid::new_v4();
        let s = Scope::for_roles(me, &[Role::Trainee], || vec![org]);
        assert!(s.covers_person(me, org));
        assert!(!s.covers_person(Uuid::new_v4(), org));
        assert!(!s.covers_organization(org));
    }

    #[test]
    fn only_admin_grants_admin() {
        assert!(may_grant(&[Role::Admin], &[Role::Admin]));
        assert!(!may_grant(&[Role::Coordinator], &[Role::Admin]));
        assert!(may_grant(
            &[Role::Coordinator],
            &[Role::Hr, Role::Coordinator]
        ));
        assert!(!may_grant(&[Role::Hr], &[Role::Trainee, Role::Coordinator]));
        assert!(may_grant(&[Role::Hr], &[Role::Trainee]));
        assert!(!may_grant(&[Role::Trainee], &[Role::Trainee]));
    }

    use Role::{Admin, Coordinator, Hr, Trainee};

    /// grantor role × target's roles × own/other × field, with the verdict the rule gives.
    #[test]
    fn account_change_matrix() {
        let me = Uuid::new_v4();
        let other = Uuid::new_v4();
        let fields: [(&str, AccountChange); 4] = [
            (
                "profile",
                AccountChange {
                    profile: true,
                    ..Default::default()
                },
            ),
            (
                "password",
                AccountChange {
                    password: true,
                    ..Default::default()
                },
            ),
            (
                "active",
                AccountChange {
                    active: true,
                    ..Default::default()
                },
            ),
            (
                "roles→trainee",
                AccountChange {
                    new_roles: Some(&[Trainee]),
                    ..Default::default()
                },
            ),
        ];
        let targets: [&[Role]; 4] = [&[Trainee], &[Hr], &[Coordinator], &[Admin]];
        for grantor in [Admin, Coordinator, Hr] {
            for target_roles in targets {
                for (field, change) in &fields {
                    let verdict = check_account_change(
                        Some((me, &[grantor])),
                        Some((other, target_roles)),
                        change,
                    );
                    let may = target_roles
                        .iter()
                        .all(|r| grantable(&[grantor]).contains(r));
                    assert_eq!(
                        verdict.is_ok(),
                        may,
                        "{grantor:?} → other {target_roles:?}: {field}"
                    );
                    if !may {
                        assert_eq!(verdict, Err(AccountDenial::Outranked));
                    }
                }
                // own account: the profile yes, roles and access never
                for (field, change) in &fields {
                    let verdict = check_account_change(
                        Some((me, &[grantor])),
                        Some((me, &[grantor])),
                        change,
                    );
                    assert_eq!(
                        verdict.is_ok(),
                        *field == "profile",
                        "{grantor:?} own: {field}"
                    );
                }
            }
        }
    }

    #[test]
    fn hr_cannot_make_herself_a_coordinator() {
        let me = Uuid::new_v4();
        let change = AccountChange {
            new_roles: Some(&[Coordinator, Hr]),
            ..Default::default()
        };
        assert_eq!(
            check_account_change(Some((me, &[Hr])), Some((me, &[Hr])), &change),
            Err(AccountDenial::Grant(Coordinator))
        );
    }

    #[test]
    fn coordinator_grants_hr_and_coordinator_but_never_changes_own_roles() {
        let (me, other) = (Uuid::new_v4(), Uuid::new_v4());
        let change = AccountChange {
            new_roles: Some(&[Coordinator, Hr]),
            ..Default::default()
        };
        assert!(check_account_change(
            Some((me, &[Coordinator])),
            Some((other, &[Trainee])),
            &change
        )
        .is_ok());
        assert_eq!(
            check_account_change(
                Some((me, &[Coordinator])),
                Some((me, &[Coordinator])),
                &change
            ),
            Err(AccountDenial::OwnRoles)
        );
        assert!(check_account_change(Some((me, &[Coordinator])), None, &change).is_ok());
    }

    #[test]
    fn the_command_line_acts_as_an_administrator() {
        let change = AccountChange {
            new_roles: Some(&[Admin]),
            password: true,
            ..Default::default()
        };
        assert!(check_account_change(None, Some((Uuid::new_v4(), &[Admin])), &change).is_ok());
    }
}
