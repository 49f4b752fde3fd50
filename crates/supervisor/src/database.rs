//! The benchmark's PostgreSQL: a throwaway server claimbench starts itself, or an existing one
//! given by URL; seeding claimbench's own schema (`fixtures/database/seed.sql`); reading the
//! `pg_stat_statements` counters that prove the apps did the work; and stopping the server.
//!
//! A self-started server is a fresh `initdb` cluster in a temporary folder, run as an
//! unprivileged user when claimbench runs as root (`initdb` refuses root), listening on loopback
//! at a free port with fsync and synchronous commit off. It gets the apps' guarantee: the
//! postmaster is its own process group, registered with [`crate::shutdown`] for the signal path,
//! dies with claimbench through `PR_SET_PDEATHSIG`, and dropping the [`Database`] stops it (fast
//! shutdown, then SIGKILL) and kills any backend left behind. Backends leave the postmaster's
//! group (PostgreSQL makes each child its own group leader), so they are found by parent pid.
//! SQL goes through `psql`, from the same package, so claimbench links no database driver.
//! What the counters must say is the model's `DbCounters::judge`; pinning follows the topology.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use claimbench_model::database::{DatabaseInfo, DbCounters};
use claimbench_platform::{cpu_list, procfs, CpuMask};
use nix::sys::prctl::set_pdeathsig;
use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;

use crate::error::{SupervisorError, Tail};
use crate::shutdown;
use crate::stderr::OutputTail;

/// Connections in each app worker's pool, the same in every stack (handed over as `DATABASE_POOL`).
pub const POOL_PER_WORKER: u32 = 16;
/// The schema claimbench creates and seeds; it drops nothing outside it.
pub const SCHEMA: &str = "claimbench";
/// Names the folder holding `initdb`, `postgres` and `psql`, when they are not where Debian puts them.
pub const PG_BIN_ENV: &str = "CLAIMBENCH_PG_BIN";
/// The seed script, relative to the repository root.
const SEED: &str = "fixtures/database/seed.sql";
/// The account a root claimbench runs the server as.
const UNPRIVILEGED_USER: &str = "nobody";
/// The superuser `initdb` creates and the apps connect as (trust authentication, loopback only).
const DB_USER: &str = "claimbench";
/// How long a fresh server may take to accept connections.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// Between the fast-shutdown request and SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// Connections the server accepts: 8 workers' pools of both stacks with room to spare.
const MAX_CONNECTIONS: u32 = 300;

/// Where the database comes from.
#[derive(Debug, Clone, Default)]
pub struct DatabaseConfig {
    /// `postgres://…` of an existing server; `None` starts a throwaway one.
    pub url: Option<String>,
    /// CPUs to pin a self-started server to.
    pub cpus: Option<Vec<usize>>,
    /// Recorded with the results when the server shares its CPUs, e.g. "shares CPU 0 with …".
    pub cpu_note: Option<String>,
    /// The folder of PostgreSQL's programs; `None` reads `CLAIMBENCH_PG_BIN`, then looks where
    /// Debian's package puts them, then on `PATH`.
    pub pg_bin: Option<PathBuf>,
}

/// A ready, seeded database. Dropping it stops a self-started server and removes its folder.
pub struct Database {
    url: String,
    psql: PathBuf,
    info: DatabaseInfo,
    server: Option<Server>,
}

/// The self-started server's process and folder.
struct Server {
    child: Child,
    pid: i32,
    tail: OutputTail,
    // Removed on drop, after the server has stopped.
    _dir: tempfile::TempDir,
}

impl Database {
    /// Starts (or connects to) the database and seeds claimbench's schema; `root` is the checkout.
    pub fn start(root: &Path, config: &DatabaseConfig) -> Result<Database, SupervisorError> {
        let seed = root.join(SEED);
        let mut database = match &config.url {
            Some(url) => Database::external(url, config)?,
            None => Database::self_started(config)?,
        };
        database.seed(&seed)?;
        Ok(database)
    }

    fn external(url: &str, config: &DatabaseConfig) -> Result<Database, SupervisorError> {
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| SupervisorError::BadDatabaseUrl { url: url.to_string(), why: e.to_string() })?;
        if !matches!(parsed.scheme(), "postgres" | "postgresql") {
            return Err(SupervisorError::BadDatabaseUrl {
                url: url.to_string(),
                why: format!("the scheme is {}, not postgres", parsed.scheme()),
            });
        }
        let bin = PgBin::find(config, &["psql"])?;
        let address =
            format!("{}:{}{}", parsed.host_str().unwrap_or("localhost"), parsed.port().unwrap_or(5432), parsed.path());
        Ok(Database {
            url: url.to_string(),
            psql: bin.tool("psql"),
            info: info(address, false, Vec::new(), None, None),
            server: None,
        })
    }

    fn self_started(config: &DatabaseConfig) -> Result<Database, SupervisorError> {
        let bin = PgBin::find(config, &["initdb", "postgres", "psql"])?;
        let dir = tempfile::Builder::new()
            .prefix("claimbench-pg-")
            .tempdir()
            .map_err(|e| SupervisorError::io("creating a folder for the database", e))?;
        let account = Account::for_server()?;
        if let Some(account) = &account {
            std::os::unix::fs::chown(dir.path(), Some(account.uid), Some(account.gid))
                .map_err(|e| SupervisorError::io(format!("handing {} to {}", dir.path().display(), account.name), e))?;
        }
        let data = dir.path().join("data");
        let mut initdb = Command::new(bin.tool("initdb"));
        initdb
            .arg("-D")
            .arg(&data)
            .args(["-U", DB_USER, "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions"])
            .current_dir(dir.path());
        if let Some(account) = &account {
            initdb.uid(account.uid).gid(account.gid);
        }
        run_tool("initdb", initdb)?;

        let port = crate::process::free_port()?;
        let settings = server_settings(dir.path());
        let mut cmd = Command::new(bin.tool("postgres"));
        cmd.arg("-D").arg(&data).arg("-p").arg(port.to_string());
        for (name, value) in &settings {
            cmd.arg("-c").arg(format!("{name}={value}"));
        }
        cmd.current_dir(dir.path()).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).process_group(0);
        if let Some(account) = &account {
            cmd.uid(account.uid).gid(account.gid);
        }
        let mask = match &config.cpus {
            Some(cpus) => Some(CpuMask::new(cpus).map_err(|e| SupervisorError::Pin {
                stack: "the database".into(),
                cpus: cpu_list(cpus),
                message: e.to_string(),
            })?),
            None => None,
        };
        // SAFETY: as for the apps (process.rs): only async-signal-safe calls on data prepared
        // before the fork. std switches the user before running this, and a changed user would
        // clear the death signal, so it is set here, after the switch.
        unsafe {
            cmd.pre_exec(move || {
                set_pdeathsig(Signal::SIGKILL)?;
                if let Some(mask) = &mask {
                    mask.apply()?;
                }
                Ok(())
            });
        }
        let mut child = cmd.spawn().map_err(|source| SupervisorError::Spawn {
            stack: "the database (postgres)".into(),
            command: bin.tool("postgres").display().to_string(),
            source,
        })?;
        let pid = child.id() as i32;
        shutdown::register(pid);
        let tail = OutputTail::default();
        if let Some(out) = child.stdout.take() {
            tail.follow(out);
        }
        if let Some(err) = child.stderr.take() {
            tail.follow(err);
        }
        let admin_url = format!("postgres://{DB_USER}@127.0.0.1:{port}/postgres");
        let mut database = Database {
            url: format!("postgres://{DB_USER}@127.0.0.1:{port}/{SCHEMA}"),
            psql: bin.tool("psql"),
            info: info(
                format!("127.0.0.1:{port}/{SCHEMA}"),
                true,
                settings,
                config.cpus.as_deref().map(cpu_list),
                config.cpu_note.clone(),
            ),
            server: Some(Server { child, pid, tail, _dir: dir }),
        };
        database.wait_ready(&admin_url)?;
        database.sql_at(&admin_url, &format!("CREATE DATABASE {SCHEMA}"))?;
        Ok(database)
    }

    /// Polls until the server answers a query, or fails with its log tail if it exits or times out.
    fn wait_ready(&mut self, admin_url: &str) -> Result<(), SupervisorError> {
        let started = Instant::now();
        loop {
            if let Some(server) = &mut self.server {
                if let Ok(Some(status)) = server.child.try_wait() {
                    std::thread::sleep(Duration::from_millis(50));
                    return Err(SupervisorError::DatabaseFailed {
                        step: "starting postgres".into(),
                        status: status.to_string(),
                        tail: Tail(server.tail.text()),
                    });
                }
            }
            if self.sql_at(admin_url, "SELECT 1").is_ok() {
                return Ok(());
            }
            if started.elapsed() > READY_TIMEOUT {
                return Err(SupervisorError::DatabaseFailed {
                    step: format!("waiting {READY_TIMEOUT:?} for postgres to accept connections"),
                    status: "still not ready".into(),
                    tail: Tail(self.server.as_ref().map(|s| s.tail.text()).unwrap_or_default()),
                });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Creates claimbench's schema and tables, and `pg_stat_statements` where it can.
    fn seed(&mut self, seed: &Path) -> Result<(), SupervisorError> {
        let mut cmd = self.psql_command(&self.url);
        cmd.arg("-v").arg(format!("schema={SCHEMA}")).arg("-f").arg(seed);
        run_tool("psql (seeding the World and Fortune tables)", cmd)?;
        let extension = self.sql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
        if self.server.is_some() {
            // Our own server preloads it: failing here is a broken installation, not a choice.
            extension?;
        }
        self.info.counters_available = self.counters().is_ok();
        self.info.version = self.sql("SELECT version()").map(|v| short_version(&v)).unwrap_or_default();
        Ok(())
    }

    /// The URL the apps connect to (`DATABASE_URL`); its schema is [`SCHEMA`] (`DATABASE_SCHEMA`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// What the results record about this database.
    pub fn info(&self) -> &DatabaseInfo {
        &self.info
    }

    /// The environment an app needs to use this database.
    pub fn app_env(&self) -> Vec<(String, String)> {
        vec![
            ("DATABASE_URL".into(), self.url.clone()),
            ("DATABASE_SCHEMA".into(), SCHEMA.into()),
            ("DATABASE_POOL".into(), POOL_PER_WORKER.to_string()),
        ]
    }

    /// The postmaster's pid, for a self-started server.
    pub fn pid(&self) -> Option<i32> {
        self.server.as_ref().map(|s| s.pid)
    }

    /// CPU seconds the self-started server has used so far: the postmaster, its reaped children
    /// and its live backends. `None` for an external server, whose CPU is not ours to read.
    pub fn cpu_seconds(&self) -> Option<f64> {
        let pid = self.pid()?;
        let ticks = procfs::clock_ticks();
        let mut used = 0.0;
        for (p, fields) in procfs::processes() {
            if p == pid {
                used += (fields.utime + fields.stime) as f64 + (fields.cutime + fields.cstime).max(0) as f64;
            } else if fields.ppid == pid {
                used += (fields.utime + fields.stime) as f64;
            }
        }
        Some(used / ticks)
    }

    /// The `pg_stat_statements` totals of the apps' statements on `World` and `Fortune` now.
    pub fn counters(&self) -> Result<DbCounters, SupervisorError> {
        let row = self.sql(COUNTERS_SQL)?;
        parse_counters(&row).ok_or_else(|| SupervisorError::DatabaseFailed {
            step: "reading pg_stat_statements".into(),
            status: format!("unexpected answer {row:?}"),
            tail: Tail::default(),
        })
    }

    /// `World` as `(id, randomNumber)` pairs, ordered by id.
    pub fn world(&self) -> Result<Vec<(i64, i64)>, SupervisorError> {
        let text = self.sql(&format!("SELECT id || ',' || randomnumber FROM {SCHEMA}.world ORDER BY id"))?;
        Ok(text
            .lines()
            .filter_map(|line| {
                let (id, n) = line.split_once(',')?;
                Some((id.parse().ok()?, n.parse().ok()?))
            })
            .collect())
    }

    /// Runs one SQL statement on the benchmark database; the unaligned, tuples-only output.
    pub fn sql(&self, sql: &str) -> Result<String, SupervisorError> {
        self.sql_at(&self.url, sql)
    }

    fn sql_at(&self, url: &str, sql: &str) -> Result<String, SupervisorError> {
        let mut cmd = self.psql_command(url);
        cmd.args(["-c", sql]);
        run_tool("psql", cmd)
    }

    fn psql_command(&self, url: &str) -> Command {
        let mut cmd = Command::new(&self.psql);
        cmd.args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url])
            .env("PGCONNECT_TIMEOUT", "10")
            .env("PGOPTIONS", format!("-c search_path={SCHEMA},public"))
            .stdin(Stdio::null());
        cmd
    }

    /// Stops a self-started server now (fast shutdown, then SIGKILL); an external one is left alone.
    pub fn stop(mut self) {
        self.terminate();
    }

    fn terminate(&mut self) {
        let Some(mut server) = self.server.take() else { return };
        let children: Vec<i32> = procfs::processes().filter(|(_, f)| f.ppid == server.pid).map(|(p, _)| p).collect();
        // SIGINT is PostgreSQL's fast shutdown: it ends the sessions instead of waiting for them.
        let _ = kill(Pid::from_raw(server.pid), Signal::SIGINT);
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline && matches!(server.child.try_wait(), Ok(None)) {
            std::thread::sleep(Duration::from_millis(20));
        }
        if matches!(server.child.try_wait(), Ok(None)) {
            let _ = killpg(Pid::from_raw(server.pid), Signal::SIGKILL);
            let _ = server.child.wait();
        }
        // Backends are their own group leaders; any that outlived the postmaster go now.
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            let left: Vec<i32> = procfs::processes()
                .filter(|(p, f)| (children.contains(p) || f.ppid == server.pid) && f.state != 'Z')
                .map(|(p, _)| p)
                .collect();
            if left.is_empty() || Instant::now() > deadline {
                break;
            }
            for pid in left {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        shutdown::unregister(server.pid);
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        self.terminate();
    }
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database").field("address", &self.info.address).field("pid", &self.pid()).finish()
    }
}

/// The settings a self-started server runs with, all recorded in the results. fsync and
/// synchronous commit are off as in TechEmpower's tmpfs set-up: the benchmark measures the apps
/// and their drivers, not the disk.
fn server_settings(socket_dir: &Path) -> Vec<(String, String)> {
    [
        ("listen_addresses", "127.0.0.1".to_string()),
        ("unix_socket_directories", socket_dir.display().to_string()),
        ("fsync", "off".into()),
        ("synchronous_commit", "off".into()),
        ("full_page_writes", "off".into()),
        ("max_connections", MAX_CONNECTIONS.to_string()),
        ("shared_preload_libraries", "pg_stat_statements".into()),
        ("pg_stat_statements.max", "10000".into()),
        ("log_min_messages", "warning".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

fn info(
    address: String,
    self_started: bool,
    settings: Vec<(String, String)>,
    cpus: Option<String>,
    cpu_note: Option<String>,
) -> DatabaseInfo {
    DatabaseInfo {
        version: String::new(),
        self_started,
        address,
        schema: SCHEMA.into(),
        settings,
        pool_per_worker: POOL_PER_WORKER,
        cpus,
        cpu_note,
        counters_available: false,
    }
}

/// `PostgreSQL 15.18 (Debian 15.18-0+deb12u1) on x86_64-pc-linux-gnu, …` -> up to the first comma.
fn short_version(version: &str) -> String {
    version.split(" on ").next().unwrap_or(version).trim().to_string()
}

/// The apps' statements by kind, from this database only; the counters query itself and the
/// seed script (INSERT, ANALYZE) match none of the kinds.
const COUNTERS_SQL: &str = "SELECT \
    coalesce(sum(calls) FILTER (WHERE q LIKE 'select%world%'), 0) || ',' || \
    coalesce(sum(rows) FILTER (WHERE q LIKE 'select%world%'), 0) || ',' || \
    coalesce(sum(calls) FILTER (WHERE q LIKE 'update%world%'), 0) || ',' || \
    coalesce(sum(rows) FILTER (WHERE q LIKE 'update%world%'), 0) || ',' || \
    coalesce(sum(calls) FILTER (WHERE q LIKE 'select%fortune%'), 0) || ',' || \
    coalesce(sum(rows) FILTER (WHERE q LIKE 'select%fortune%'), 0) \
    FROM (SELECT ltrim(lower(query)) AS q, calls, rows FROM pg_stat_statements \
          WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) \
            AND query NOT ILIKE '%pg_stat_statements%') AS s";

fn parse_counters(row: &str) -> Option<DbCounters> {
    let v: Vec<u64> = row.trim().split(',').map(|x| x.parse().ok()).collect::<Option<_>>()?;
    let [world_selects, world_select_rows, world_updates, world_update_rows, fortune_selects, fortune_select_rows] =
        v[..]
    else {
        return None;
    };
    Some(DbCounters {
        world_selects,
        world_select_rows,
        world_updates,
        world_update_rows,
        fortune_selects,
        fortune_select_rows,
    })
}

/// Runs a client tool to completion; its stdout on success, its output tail on failure.
fn run_tool(what: &str, mut cmd: Command) -> Result<String, SupervisorError> {
    let output = cmd.stdin(Stdio::null()).output().map_err(|e| SupervisorError::io(format!("running {what}"), e))?;
    if output.status.success() {
        return Ok(String::from_utf8_lossy(&output.stdout).trim().to_string());
    }
    let mut text = String::from_utf8_lossy(&output.stderr).to_string();
    text.push_str(&String::from_utf8_lossy(&output.stdout));
    Err(SupervisorError::DatabaseFailed { step: what.to_string(), status: output.status.to_string(), tail: Tail(text) })
}

/// The folder of PostgreSQL's programs.
struct PgBin(PathBuf);

impl PgBin {
    /// The configured folder or `CLAIMBENCH_PG_BIN`, else the newest `/usr/lib/postgresql/*/bin`,
    /// else `PATH`; each must hold every one of `tools`.
    fn find(config: &DatabaseConfig, tools: &[&str]) -> Result<PgBin, SupervisorError> {
        let has_all = |dir: &Path| tools.iter().all(|t| dir.join(t).is_file());
        let mut tried = Vec::new();
        if let Some(dir) = config.pg_bin.clone().or_else(|| std::env::var_os(PG_BIN_ENV).map(PathBuf::from)) {
            if has_all(&dir) {
                return Ok(PgBin(dir));
            }
            return Err(SupervisorError::DatabaseMissing { tools: tools.join(", "), tried: dir.display().to_string() });
        }
        let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
            .collect();
        versions.sort();
        tried.push("/usr/lib/postgresql/*/bin".to_string());
        if let Some((_, dir)) = versions.into_iter().rev().find(|(_, d)| has_all(d)) {
            return Ok(PgBin(dir));
        }
        tried.push("PATH".into());
        let path = std::env::var_os("PATH").unwrap_or_default();
        if let Some(dir) = std::env::split_paths(&path).find(|d| has_all(d)) {
            return Ok(PgBin(dir));
        }
        Err(SupervisorError::DatabaseMissing { tools: tools.join(", "), tried: tried.join(", ") })
    }

    fn tool(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

/// The unprivileged account a root claimbench hands the server to.
struct Account {
    name: String,
    uid: u32,
    gid: u32,
}

impl Account {
    /// `None` when claimbench is not root (the server then runs as the current user).
    fn for_server() -> Result<Option<Account>, SupervisorError> {
        if !nix::unistd::geteuid().is_root() {
            return Ok(None);
        }
        match nix::unistd::User::from_name(UNPRIVILEGED_USER) {
            Ok(Some(user)) => Ok(Some(Account { name: user.name, uid: user.uid.as_raw(), gid: user.gid.as_raw() })),
            _ => Err(SupervisorError::DatabaseFailed {
                step: format!(
                    "finding the unprivileged user '{UNPRIVILEGED_USER}' to run postgres as (initdb refuses root)"
                ),
                status: "no such user".into(),
                tail: Tail("create it (useradd --system nobody) or run claimbench as a normal user".into()),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_parse_from_psql_output_and_odd_output_is_refused() {
        let c = parse_counters("20,20,1,5,2,24\n").unwrap();
        assert_eq!((c.world_selects, c.world_update_rows, c.fortune_select_rows), (20, 5, 24));
        assert_eq!(parse_counters("1,2,3"), None);
        assert_eq!(parse_counters(""), None);
        assert_eq!(parse_counters("a,b,c,d,e,f"), None);
    }

    #[test]
    fn the_version_is_cut_before_the_platform() {
        assert_eq!(
            short_version("PostgreSQL 15.18 (Debian 15.18-0+deb12u1) on x86_64-pc-linux-gnu, compiled by gcc"),
            "PostgreSQL 15.18 (Debian 15.18-0+deb12u1)"
        );
    }

    #[test]
    fn the_settings_switch_durability_off_and_load_the_statement_counters() {
        let settings = server_settings(Path::new("/tmp/x"));
        let get = |name: &str| settings.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        assert_eq!(get("fsync"), Some("off"));
        assert_eq!(get("synchronous_commit"), Some("off"));
        assert_eq!(get("listen_addresses"), Some("127.0.0.1"));
        assert_eq!(get("shared_preload_libraries"), Some("pg_stat_statements"));
    }
}
