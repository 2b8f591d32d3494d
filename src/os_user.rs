//! Accounts of the operating system: the name of a uid, and who logged in
//! behind a `sudo`. The command line's actor in the audit trail is made of
//! these.

use std::path::Path;

/// The account a person logged in with (the kernel's login uid, which `sudo`
/// and `su` keep).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub name: String,
    pub uid: u32,
}

/// Who logged in to start the process `pid`, if that is not `running_as`
/// (and is known: daemons and containers often have no login uid).
pub fn login_of(pid: i32, running_as: u32) -> Option<Login> {
    login_at(Path::new(&format!("/proc/{pid}/loginuid")), running_as)
}

/// Who logged in to start this process, if that is not `running_as`.
pub fn login_of_this_process(running_as: u32) -> Option<Login> {
    login_at(Path::new("/proc/self/loginuid"), running_as)
}

fn login_at(file: &Path, running_as: u32) -> Option<Login> {
    /// What the kernel reports for a process started without a login.
    const UNSET: u32 = u32::MAX;
    let uid: u32 = std::fs::read_to_string(file).ok()?.trim().parse().ok()?;
    (uid != UNSET && uid != running_as).then(|| Login {
        name: user_name(uid),
        uid,
    })
}

/// The login name of `uid`, or the number if it has none.
pub fn user_name(uid: u32) -> String {
    let mut buf = vec![0u8; 4096];
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: getpwuid_r writes into `pwd` and `buf`, which outlive the call;
    // `found` is null or points to `pwd`.
    let rc = unsafe {
        libc::getpwuid_r(
            uid,
            &mut pwd,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut found,
        )
    };
    if rc != 0 || found.is_null() || pwd.pw_name.is_null() {
        return uid.to_string();
    }
    // SAFETY: pw_name points into `buf`, NUL-terminated.
    unsafe { std::ffi::CStr::from_ptr(pwd.pw_name) }
        .to_string_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_person_behind_sudo_is_found_and_an_unset_login_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("loginuid");
        std::fs::write(&file, "1001\n").unwrap();
        assert_eq!(login_at(&file, 0).map(|l| l.uid), Some(1001));
        assert_eq!(
            login_at(&file, 1001),
            None,
            "the same account twice says nothing"
        );
        std::fs::write(&file, "4294967295").unwrap();
        assert_eq!(
            login_at(&file, 0),
            None,
            "started without a login (a service)"
        );
        assert_eq!(login_at(&dir.path().join("missing"), 0), None);
        assert_eq!(user_name(0), "root");
    }
}
