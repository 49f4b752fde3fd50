//! The benchmark database against a real PostgreSQL: a self-started server is seeded, counts the
//! statements run on it, runs as an unprivileged user when the tests run as root, and leaves no
//! process and no folder behind; `--database-url` seeds an existing server's `claimbench` schema
//! and drops nothing else; missing binaries name the apt package.

use std::path::{Path, PathBuf};

use claimbench_platform::procfs;
use claimbench_supervisor::{Database, DatabaseConfig};

fn root() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).to_path_buf()
}

fn start(config: &DatabaseConfig) -> Database {
    Database::start(&root(), config).unwrap_or_else(|e| panic!("the database did not start: {e}"))
}

/// The server's processes: the postmaster and its children.
fn server_processes(pid: i32) -> Vec<i32> {
    procfs::processes().filter(|(p, f)| (*p == pid || f.ppid == pid) && f.state != 'Z').map(|(p, _)| p).collect()
}

#[test]
fn a_self_started_database_is_seeded_counts_statements_and_leaves_nothing_behind() {
    let database = start(&DatabaseConfig::default());
    let pid = database.pid().expect("a self-started server has a postmaster");
    let info = database.info().clone();
    assert!(info.self_started && info.counters_available, "{info:?}");
    assert!(info.version.starts_with("PostgreSQL "), "{}", info.version);
    assert!(info.address.starts_with("127.0.0.1:"), "{}", info.address);
    for (name, value) in [("fsync", "off"), ("synchronous_commit", "off")] {
        assert!(info.settings.contains(&(name.to_string(), value.to_string())), "{name} recorded: {:?}", info.settings);
        assert_eq!(database.sql(&format!("SHOW {name}")).unwrap(), value, "{name} is in force");
    }

    let world = database.world().unwrap();
    assert_eq!(world.len(), 10_000);
    assert!(world.iter().enumerate().all(|(i, &(id, n))| id == i as i64 + 1 && (1..=10_000).contains(&n)));
    assert_eq!(database.sql("SELECT count(*) FROM fortune").unwrap(), "12");
    let script = database.sql("SELECT count(*) FROM fortune WHERE message LIKE '<script>%'").unwrap();
    assert_eq!(script, "1", "the row that tests escaping is there");

    if nix::unistd::geteuid().is_root() {
        let owner = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let uid_line = owner.lines().find(|l| l.starts_with("Uid:")).unwrap().to_string();
        assert!(
            uid_line.split_whitespace().nth(1).is_none_or(|u| u != "0"),
            "postgres must not run as root: {uid_line}"
        );
    }

    let before = database.counters().unwrap();
    for id in [1, 2, 3] {
        database.sql(&format!("SELECT id, randomnumber FROM world WHERE id = {id}")).unwrap();
    }
    database.sql("UPDATE world SET randomnumber = 7 WHERE id IN (1, 2)").unwrap();
    let done = database.counters().unwrap().since(&before);
    assert_eq!((done.world_selects, done.world_select_rows), (3, 3), "{done:?}");
    assert_eq!((done.world_updates, done.world_update_rows), (1, 2), "{done:?}");
    assert!(database.cpu_seconds().unwrap() > 0.0);

    assert!(!server_processes(pid).is_empty());
    database.stop();
    assert_eq!(server_processes(pid), Vec::<i32>::new(), "no postgres process outlives the database");
    let folder = PathBuf::from(info.settings.iter().find(|(k, _)| k == "unix_socket_directories").unwrap().1.clone());
    assert!(!folder.exists(), "the cluster's folder {} is removed", folder.display());
}

#[test]
fn an_existing_server_gets_its_own_schema_and_keeps_everything_else() {
    let server = start(&DatabaseConfig::default());
    server.sql("CREATE TABLE public.keep_me (x integer); INSERT INTO public.keep_me VALUES (42)").unwrap();
    server.sql("UPDATE world SET randomnumber = 0 WHERE id = 1").unwrap();

    let external = start(&DatabaseConfig { url: Some(server.url().to_string()), ..DatabaseConfig::default() });
    let info = external.info();
    assert!(!info.self_started && info.settings.is_empty() && external.pid().is_none(), "{info:?}");
    assert_eq!(
        external.sql("SELECT x FROM public.keep_me").unwrap(),
        "42",
        "nothing outside claimbench's schema is dropped"
    );
    assert_ne!(
        external.sql("SELECT randomnumber FROM world WHERE id = 1").unwrap(),
        "0",
        "its own tables are seeded afresh"
    );
    external.stop();
    // Stopping a database that claimbench did not start leaves the server running.
    assert_eq!(server.sql("SELECT 1").unwrap(), "1");
}

#[test]
fn missing_binaries_name_the_apt_package() {
    let empty = tempfile::tempdir().unwrap();
    let config = DatabaseConfig { pg_bin: Some(empty.path().to_path_buf()), ..DatabaseConfig::default() };
    let err = Database::start(&root(), &config).unwrap_err().to_string();
    assert!(err.contains("apt-get install postgresql"), "{err}");
    assert!(err.contains("initdb") && err.contains(&empty.path().display().to_string()), "{err}");
}

#[test]
fn a_url_that_is_not_postgres_is_refused_with_an_example() {
    let config = DatabaseConfig { url: Some("mysql://localhost/x".into()), ..DatabaseConfig::default() };
    let err = Database::start(&root(), &config).unwrap_err().to_string();
    assert!(err.contains("not a PostgreSQL URL") && err.contains("postgres://user:password@"), "{err}");
}
