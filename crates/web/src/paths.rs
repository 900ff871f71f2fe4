//! Route paths in one place: links and redirects are built here, never spelled by hand.

use domain::{SessionId, SiteId, TeamId, UserId};

pub const LOGIN: &str = "/login";
pub const LOGOUT: &str = "/logout";
pub const SETUP: &str = "/setup";
pub const ACCOUNT: &str = "/account";
pub const CONSOLE: &str = "/console";
pub const ACCOUNT_PASSWORD: &str = "/account/password";
pub const ADMIN: &str = "/admin";
pub const ADMIN_ORGANIZATION: &str = "/admin/organization";
pub const ADMIN_REPS: &str = "/admin/reps";
pub const ADMIN_TEAMS: &str = "/admin/teams";
pub const ADMIN_AUDIT: &str = "/admin/audit";
pub const ADMIN_ORGANIZATIONS: &str = "/admin/organizations";
pub const ADMIN_ISSUE_TYPES: &str = "/admin/issue-types";

pub fn admin_site(id: SiteId) -> String {
    format!("/admin/sites/{id}")
}

/// One of a site's admin pages: `fields`, `notices`, `schedule`, `profiles`.
pub fn admin_site_part(id: SiteId, part: &str) -> String {
    format!("/admin/sites/{id}/{part}")
}

/// A presentation's lobby, reached by its key.
pub fn presentation(key: &str) -> String {
    format!("/presentations/{key}")
}

/// A portal page of a site: its home with `""`, else e.g. `request`, `key/confirm`.
pub fn portal(slug: &str, rest: &str) -> String {
    match rest {
        "" => format!("/p/{slug}"),
        rest => format!("/p/{slug}/{rest}"),
    }
}

/// The form that asks a named rep for help.
pub fn portal_rep(slug: &str, rep: UserId) -> String {
    format!("/p/{slug}/rep/{rep}")
}

pub fn admin_rep(id: UserId) -> String {
    format!("/admin/reps/{id}")
}

pub fn admin_team(id: TeamId) -> String {
    format!("/admin/teams/{id}")
}

pub fn admin_team_delete(id: TeamId) -> String {
    format!("/admin/teams/{id}/delete")
}

/// A session's tab in the console.
pub fn console_session(id: SessionId) -> String {
    format!("/console/sessions/{id}")
}

/// A customer's waiting page: reachable only with the capability token in its address.
pub fn waiting(capability: &str) -> String {
    format!("/s/{capability}")
}

/// Where a user lands after signing in: admins configure, reps work in their console.
pub fn home_for(role: domain::Role) -> &'static str {
    match role {
        domain::Role::Admin => ADMIN,
        domain::Role::Rep => CONSOLE,
    }
}

/// Only a path of this instance is followed after sign-in (no open redirect). The target is
/// resolved the way a browser resolves a `Location` against this instance (the WHATWG parser
/// drops tabs and newlines, reads backslashes as slashes), and must stay on it; it must also
/// be plain: no control characters, no whitespace, no backslashes, at most 2,000 bytes.
pub fn safe_next(next: Option<&str>) -> Option<&str> {
    next.filter(|next| is_local_path(next))
}

fn is_local_path(next: &str) -> bool {
    const HERE: &str = "http://this-instance.invalid/";
    let plain = next.len() <= 2_000
        && next.starts_with('/')
        && !next
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\\');
    let stays = url::Url::parse(HERE)
        .and_then(|here| here.join(next))
        .is_ok_and(|target| {
            target.scheme() == "http"
                && target.host_str() == Some("this-instance.invalid")
                && target.port().is_none()
                && target.username().is_empty()
        });
    plain && stays
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/admin/reps")), Some("/admin/reps"));
        assert_eq!(
            safe_next(Some("/console/sessions/4?tab=log#end")),
            Some("/console/sessions/4?tab=log#end")
        );
        // Forms that browsers read as another host, or that break a Location header.
        let bypasses = [
            "https://evil.test",
            "//evil.test",
            "/\\evil.test",
            "\\\\evil.test",
            "/\\/evil.test",
            "admin",
            "javascript:alert(1)",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r/evil.example",
            " //evil.example",
            "/ /evil.example",
            "//\\evil.example",
            "///evil.example",
            "/\u{0}/admin",
            "/\u{1}",
            "/\u{7f}",
            "/\u{85}/evil.example",
            "/\u{3000}/evil.example",
            "http:/evil.example",
        ];
        for bad in bypasses {
            assert_eq!(safe_next(Some(bad)), None, "{bad:?}");
        }
        assert_eq!(safe_next(Some(&format!("/{}", "a".repeat(3_000)))), None);
        assert_eq!(safe_next(None), None);
    }
}
