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
        } else if roles.contains(&Role::Coordinator) || roles.contains(&Role::Hr) {
            Scope::Organizations(subtree().into_iter().collect())
        } else {
            Scope::Own(user_id)
        }
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

/// Roles that a caller with `actor_roles` may hand out: an administrator any; a coordinator or HR
/// officer anything but `admin`; nobody else none.
pub fn may_grant(actor_roles: &[Role], granted: &[Role]) -> bool {
    if actor_roles.contains(&Role::Admin) {
        return true;
    }
    let manages = actor_roles.contains(&Role::Coordinator) || actor_roles.contains(&Role::Hr);
    manages && !granted.contains(&Role::Admin)
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
        assert!(may_grant(&[Role::Hr], &[Role::Trainee, Role::Coordinator]));
        assert!(!may_grant(&[Role::Trainee], &[Role::Trainee]));
    }
}
