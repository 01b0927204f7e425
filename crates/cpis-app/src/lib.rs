//! The desktop app's core, with no Tauri in it: who is signed in, looking a patient up,
//! recording a follow-up, the audit queue and its sync, and what the status bar shows.
//! `src-tauri` wraps each public method in a command of a few lines.
//!
//! Architecture invariants:
//! - tokens live in the OS keyring and in this process's memory, never in IPC or files;
//! - every lookup is appended to the durable audit queue before its result is returned, and
//!   a failed append is reported with the result, never instead of it;
//! - a result is returned for display only if no newer lookup has started since;
//! - locking or signing out forgets the session, the tokens and every lookup's context;
//! - without a usable configuration there is no core at all ([`App::SetupNeeded`]): nothing
//!   is contacted, and the UI shows what to set and where.

mod setup;

pub use setup::{App, not_set_up_error, setup_problem_view};

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cpis_audit::sync::{HttpAuditTransport, SyncTrigger, run_background_sync};
use cpis_audit::{AuditAction, NewAuditEntry};
use cpis_client::identity::LookupPermission;
use cpis_client::{
    AlertClient, Config, KeyringTokenStore, LookupSequencer, QueueSink, Secret, Session, SignIn,
    SignedInUser,
};
use cpis_domain::{CouldNotCheckReason, LookupOutcome, NhsNumber};
use cpis_ipc::{
    AuditStatusView, IpcError, IpcErrorCode, LaContactRequest, LookupResponse, LookupView,
    ReviewPeriod, ReviewRow, ReviewView, SessionView, StatusView, TrustContactsView,
    TrustPhoneView, UiSettings, UserView, display_date_time, parse_for_lookup,
};
use time::{OffsetDateTime, UtcOffset};
use uuid::Uuid;

/// The activity code that opens the named nurse review (see the reference service's README).
pub const ACTIVITY_SAFEGUARDING_REVIEW: &str = "B1234";

/// How long to wait for the browser to bring the sign-in back.
pub const SIGN_IN_WAIT: Duration = Duration::from_secs(300);

/// Warn in the status bar when this many records wait, or the oldest is this old.
pub const BACKLOG_WARNING_COUNT: u64 = 50;
/// See [`BACKLOG_WARNING_COUNT`].
pub const BACKLOG_WARNING_AGE: time::Duration = time::Duration::minutes(30);

/// The message shown when a view could not be written to the local audit queue.
pub const AUDIT_INCIDENT_MESSAGE: &str = "This check could not be saved to the audit log on this computer. The result is still correct. Report this to your IT service desk as an incident.";

/// Environment variable naming a user for the development identity provider to sign in
/// without a page (development and tests only; the national service ignores it).
pub const LOGIN_HINT_ENV: &str = "CPIS_LOGIN_HINT";

/// What is remembered about a lookup that found plans, for the follow-up.
#[derive(Clone)]
struct LookupContext {
    nhs_number: NhsNumber,
    trace_id: Uuid,
    user: SignedInUser,
    unscheduled: bool,
}

/// The app's state.
pub struct AppCore {
    config: Config,
    offset: UtcOffset,
    version: String,
    sink: Arc<QueueSink>,
    sync_trigger: SyncTrigger,
    alert: AlertClient,
    store: KeyringTokenStore,
    session: Arc<Mutex<Option<Session>>>,
    locked: AtomicBool,
    sign_in: tokio::sync::Mutex<Option<SignIn>>,
    sign_in_attempt: std::sync::atomic::AtomicU64,
    sign_in_cancel: tokio::sync::Notify,
    review_http: reqwest::Client,
    sequencer: LookupSequencer,
    next_lookup_id: AtomicU32,
    lookups: Mutex<HashMap<u32, LookupContext>>,
    services_reachable: Mutex<Option<bool>>,
}

impl std::fmt::Debug for AppCore {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("AppCore")
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// Why the app could not start.
#[derive(Debug)]
pub struct StartError(pub String);

impl std::fmt::Display for StartError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl std::error::Error for StartError {}

impl AppCore {
    /// Start the core from a configuration. A queue that cannot be opened does not stop the
    /// app (results must still be shown); it is reported in the status bar as an incident.
    pub fn new(
        config: Config,
        store: KeyringTokenStore,
        offset: UtcOffset,
        version: String,
    ) -> Result<AppCore, StartError> {
        let sync_trigger = SyncTrigger::new();
        let trigger = sync_trigger.clone();
        let sink = Arc::new(
            QueueSink::open(&config.data_dir).with_after_append(Box::new(move || trigger.poke())),
        );
        if let Some(problem) = sink.problem() {
            tracing::error!(error = %problem, "audit queue could not be opened");
        }
        let device = sink
            .queue()
            .map(|queue| queue.device_id().to_string())
            .unwrap_or_else(|| "unknown-device".into());
        let alert = AlertClient::new(&config, sink.clone(), format!("cpis-viewer/{device}"))
            .map_err(|error| StartError(error.to_string()))?;
        let review_http = cpis_client::http::client_builder(&config.tls)
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|error| StartError(format!("could not set up the HTTP client: {error}")))?;
        let core = AppCore {
            config,
            offset,
            version,
            sink,
            sync_trigger,
            alert,
            store,
            session: Arc::new(Mutex::new(None)),
            locked: AtomicBool::new(false),
            sign_in: tokio::sync::Mutex::new(None),
            sign_in_attempt: std::sync::atomic::AtomicU64::new(0),
            sign_in_cancel: tokio::sync::Notify::new(),
            review_http,
            sequencer: LookupSequencer::new(),
            next_lookup_id: AtomicU32::new(1),
            lookups: Mutex::new(HashMap::new()),
            services_reachable: Mutex::new(None),
        };
        core.restore_session();
        Ok(core)
    }

    /// Take up a session kept in the keyring, if it is still within its 12 hours.
    fn restore_session(&self) {
        match self.store.load() {
            Ok(Some(session)) if !session.is_past_max_age(OffsetDateTime::now_utc()) => {
                self.set_session(Some(session));
            }
            Ok(Some(_)) => {
                let _ = self.store.clear();
            }
            Ok(None) => {}
            Err(error) => tracing::warn!(error = %error, "keyring could not be read"),
        }
    }

    fn set_session(&self, session: Option<Session>) {
        if let Ok(mut guard) = self.session.lock() {
            *guard = session;
        }
    }

    fn current_session(&self) -> Option<Session> {
        self.session.lock().ok().and_then(|guard| guard.clone())
    }

    /// Settings the UI needs: the inactivity lock and the trust's own words.
    pub fn ui_settings(&self) -> UiSettings {
        let minutes = (self.config.lock_after.as_secs() / 60).max(1);
        let trust = &self.config.trust;
        let phone = |phone: &Option<cpis_client::config::PhoneNumber>| {
            phone.as_ref().map(|phone| TrustPhoneView {
                display: phone.display().to_owned(),
                tel: phone.tel().to_owned(),
            })
        };
        UiSettings {
            lock_minutes: u32::try_from(minutes).unwrap_or(u32::MAX),
            organisation_display_name: trust.organisation_name.clone(),
            trust: TrustContactsView {
                downtime_procedure: trust.downtime_procedure.clone(),
                safeguarding_in_hours: phone(&trust.safeguarding_in_hours_phone),
                safeguarding_in_hours_times: trust.safeguarding_in_hours_times.clone(),
                safeguarding_out_of_hours: phone(&trust.safeguarding_out_of_hours_phone),
            },
        }
    }

    /// Who is signed in.
    pub fn session_view(&self) -> SessionView {
        if self.locked.load(Ordering::SeqCst) {
            return SessionView::Locked;
        }
        match self.current_session() {
            Some(session) => SessionView::SignedIn {
                user: user_view(&session.user),
            },
            None => SessionView::SignedOut,
        }
    }

    async fn discovered(&self) -> Result<tokio::sync::MutexGuard<'_, Option<SignIn>>, IpcError> {
        let mut guard = self.sign_in.lock().await;
        if guard.is_none() {
            let discovered = SignIn::discover(&self.config.oidc, &self.config.tls).await;
            let sign_in = discovered.map_err(|error| {
                tracing::warn!(error = %error, "identity provider discovery failed");
                IpcError::new(IpcErrorCode::IdentityProviderUnreachable)
            })?;
            *guard = Some(sign_in);
        }
        Ok(guard)
    }

    /// Sign in through the system browser: `open_url` opens the authorization URL; the
    /// loopback redirect brings the code back. A different user replaces the previous one.
    pub async fn sign_in(
        &self,
        open_url: impl FnOnce(&str) -> bool,
    ) -> Result<SessionView, IpcError> {
        // A new sign-in replaces any still waiting; only the newest may sign anyone in.
        let attempt = self.sign_in_attempt.fetch_add(1, Ordering::SeqCst) + 1;
        self.sign_in_cancel.notify_waiters();
        let cancelled = || IpcError::new(IpcErrorCode::SignInCancelled);
        let sign_in = self
            .discovered()
            .await?
            .as_ref()
            .cloned()
            .ok_or_else(IpcError::unexpected)?;
        let loopback = cpis_client::LoopbackRedirect::bind()
            .await
            .map_err(|_| IpcError::unexpected())?;
        let hint = std::env::var(LOGIN_HINT_ENV)
            .ok()
            .filter(|hint| !hint.is_empty());
        let pending = sign_in
            .begin(loopback.redirect_uri(), hint.as_deref())
            .map_err(|_| IpcError::unexpected())?;
        let cancel = self.sign_in_cancel.notified();
        tokio::pin!(cancel);
        cancel.as_mut().enable();
        if !open_url(pending.authorize_url.as_str()) {
            return Err(IpcError::new(IpcErrorCode::BrowserUnavailable));
        }
        let callback = tokio::select! {
            callback = loopback.wait_for_callback(SIGN_IN_WAIT) => callback.map_err(|_| {
                IpcError::new(IpcErrorCode::SignInNotFinished)
            })?,
            () = &mut cancel => return Err(cancelled()),
        };
        let session = sign_in.complete(pending, callback).await.map_err(|error| {
            tracing::warn!(error = %error, "sign-in refused");
            IpcError::new(IpcErrorCode::SignInRefused)
        })?;
        if self.sign_in_attempt.load(Ordering::SeqCst) != attempt {
            return Err(cancelled());
        }
        let previous = self.current_session();
        if previous.is_some_and(|previous| previous.user.subject != session.user.subject) {
            self.forget_everything();
        }
        self.store.save(&session).map_err(|error| {
            tracing::error!(error = %error, "keyring could not store the session");
            IpcError::new(IpcErrorCode::KeyringUnavailable)
        })?;
        self.set_session(Some(session));
        self.locked.store(false, Ordering::SeqCst);
        Ok(self.session_view())
    }

    /// Cancel a sign-in that is waiting for the browser; a late answer signs nobody in.
    pub fn cancel_sign_in(&self) {
        self.sign_in_attempt.fetch_add(1, Ordering::SeqCst);
        self.sign_in_cancel.notify_waiters();
    }

    /// Forget the session, its tokens (memory and keyring) and every lookup's context.
    fn forget_everything(&self) {
        self.sequencer.invalidate_all();
        self.set_session(None);
        if let Err(error) = self.store.clear() {
            tracing::error!(error = %error, "keyring could not be cleared");
        }
        if let Ok(mut lookups) = self.lookups.lock() {
            lookups.clear();
        }
    }

    /// Sign out.
    pub fn sign_out(&self) -> SessionView {
        self.forget_everything();
        self.locked.store(false, Ordering::SeqCst);
        self.session_view()
    }

    /// Lock after inactivity: like signing out, but the app says it is locked.
    pub fn lock(&self) -> SessionView {
        let had_session = self.current_session().is_some();
        self.forget_everything();
        self.locked.store(had_session, Ordering::SeqCst);
        self.session_view()
    }

    /// The access token and user for a request, refreshing or ending the session as needed.
    async fn credentials(&self) -> Option<(Secret, SignedInUser)> {
        let session = self.current_session()?;
        let now = OffsetDateTime::now_utc();
        if session.is_past_max_age(now) {
            self.forget_everything();
            return None;
        }
        if session.access_token_needs_refresh(now)
            && session.tokens.refresh_token.is_some()
            && let Ok(guard) = self.discovered().await
            && let Some(sign_in) = guard.as_ref()
        {
            match sign_in.refresh(&session).await {
                Ok(refreshed) => {
                    let _ = self.store.save(&refreshed);
                    self.set_session(Some(refreshed.clone()));
                    return Some((refreshed.tokens.access_token, refreshed.user));
                }
                Err(error) => tracing::warn!(error = %error, "token refresh failed"),
            }
        }
        Some((session.tokens.access_token, session.user))
    }

    /// Look up what the user typed.
    pub async fn lookup(&self, input: &str) -> LookupResponse {
        let nhs_number = match parse_for_lookup(input) {
            Ok(nhs_number) => nhs_number,
            Err(view) => {
                return LookupResponse {
                    lookup_id: 0,
                    view: *view,
                    audit_warning: None,
                };
            }
        };
        let ticket = self.sequencer.begin();
        let Some((token, user)) = self.credentials().await else {
            return LookupResponse {
                lookup_id: 0,
                view: LookupView::from_outcome(
                    &LookupOutcome::CouldNotCheck {
                        reason: CouldNotCheckReason::SignInRequired,
                        attempted_at: OffsetDateTime::now_utc(),
                    },
                    None,
                    self.offset,
                    Some(&nhs_number),
                ),
                audit_warning: None,
            };
        };
        let report = self.alert.lookup(&token, &user, &nhs_number, false).await;
        self.note_reachability(&report.outcome);
        let audit_warning = report
            .audit
            .as_ref()
            .err()
            .map(|_| AUDIT_INCIDENT_MESSAGE.to_string());
        if !self.sequencer.is_current(ticket) {
            return LookupResponse {
                lookup_id: 0,
                view: LookupView::Superseded,
                audit_warning,
            };
        }
        let lookup_id = if matches!(report.outcome, LookupOutcome::PlansFound { .. }) {
            let id = self.next_lookup_id.fetch_add(1, Ordering::SeqCst);
            if let Ok(mut lookups) = self.lookups.lock() {
                lookups.insert(
                    id,
                    LookupContext {
                        nhs_number: nhs_number.clone(),
                        trace_id: report.trace_id.unwrap_or_else(Uuid::new_v4),
                        user: user.clone(),
                        unscheduled: report.unscheduled,
                    },
                );
            }
            id
        } else {
            0
        };
        LookupResponse {
            lookup_id,
            view: LookupView::from_outcome(
                &report.outcome,
                report.access_history_unavailable,
                self.offset,
                Some(&nhs_number),
            ),
            audit_warning,
        }
    }

    fn note_reachability(&self, outcome: &LookupOutcome) {
        let reachable = match outcome {
            LookupOutcome::CouldNotCheck { reason, .. } => match reason {
                CouldNotCheckReason::Timeout
                | CouldNotCheckReason::ServiceUnreachable
                | CouldNotCheckReason::ServiceError => Some(false),
                CouldNotCheckReason::SignInRequired | CouldNotCheckReason::RoleNotPermitted => None,
                _ => Some(true),
            },
            LookupOutcome::InvalidInput(_) => None,
            _ => Some(true),
        };
        if let (Some(reachable), Ok(mut slot)) = (reachable, self.services_reachable.lock()) {
            *slot = Some(reachable);
        }
    }

    /// Record that the local authority was contacted after a lookup that found plans. It is
    /// audited like a view.
    pub fn record_la_contact(&self, request: &LaContactRequest) -> Result<(), IpcError> {
        let context = self
            .lookups
            .lock()
            .ok()
            .and_then(|lookups| lookups.get(&request.lookup_id).cloned())
            .ok_or_else(|| IpcError::new(IpcErrorCode::UnknownLookup))?;
        let now = OffsetDateTime::now_utc();
        let contacted_at = match request.contacted_at.as_deref() {
            None | Some("") => now,
            Some(text) => parse_today_time(text, now, self.offset)
                .ok_or_else(|| IpcError::new(IpcErrorCode::InvalidTime))?,
        };
        let role = context.user.selected_role();
        let entry = NewAuditEntry {
            occurred_at: now,
            action: AuditAction::LocalAuthorityContacted,
            user_id: context.user.subject.clone(),
            user_name: context.user.name.clone(),
            role_profile_id: role
                .map(|role| role.person_roleid.clone())
                .unwrap_or_default(),
            role_code: role.map(|role| role.role_code.clone()).unwrap_or_default(),
            role_name: role.map(|role| role.role_name.clone()).unwrap_or_default(),
            organisation_ods: role.map(|role| role.org_code.clone()).unwrap_or_default(),
            organisation_name: context
                .user
                .selected_organisation_name()
                .unwrap_or_default()
                .to_string(),
            patient_nhs_number: context.nhs_number.clone(),
            outcome: "plan_found".into(),
            trace_id: context.trace_id,
            unscheduled: context.unscheduled,
            detail: format!(
                "method={};contacted_at={}",
                request.method.code(),
                contacted_at
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default()
            ),
        };
        self.sink
            .append(&entry)
            .map_err(|_| IpcError::new(IpcErrorCode::AuditFailed))
    }

    /// The named nurse review: views with plans found at the user's organisation in
    /// `period`, from the central audit log, with whether LA contact was recorded.
    pub async fn review(&self, period: ReviewPeriod) -> Result<ReviewView, IpcError> {
        let Some((token, user)) = self.credentials().await else {
            return Err(IpcError::new(IpcErrorCode::SignInRequired));
        };
        let Some(role) = user
            .selected_role()
            .filter(|role| role.has_activity(ACTIVITY_SAFEGUARDING_REVIEW))
        else {
            return Err(IpcError::new(IpcErrorCode::RoleNotPermitted));
        };
        let now = OffsetDateTime::now_utc();
        let since = (now - period.duration())
            .format(&time::format_description::well_known::Rfc3339)
            .map_err(|_| IpcError::unexpected())?;
        let unavailable = || IpcError::new(IpcErrorCode::AuditLogUnavailable);
        let mut url =
            cpis_client::config::join_path(&self.config.services.audit_url, &["AuditEvent"]);
        url.query_pairs_mut().append_pair("since", &since);
        let response = self
            .review_http
            .get(url)
            .bearer_auth(token.expose())
            .header("Accept", "application/fhir+json")
            .timeout(Duration::from_secs(15))
            .send()
            .await
            .map_err(|_| unavailable())?;
        if !response.status().is_success() {
            tracing::warn!(status = response.status().as_u16(), "review search refused");
            return Err(unavailable());
        }
        let bundle: serde_json::Value = response.json().await.map_err(|_| unavailable())?;
        let records: Vec<cpis_audit::QueuedRecord> = bundle["entry"]
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .filter_map(|entry| cpis_audit::wire::from_audit_event(&entry["resource"]).ok())
                    .collect()
            })
            .unwrap_or_default();
        Ok(ReviewView {
            period,
            organisation_ods: role.org_code.clone(),
            rows: review_rows(&records, self.offset),
            generated_at: display_date_time(now, self.offset),
        })
    }

    /// Save the review as CSV in `folder` (the user's downloads folder), owner-only, and
    /// return the file's path. The named nurse asks for this export for a safeguarding
    /// meeting; it is the one place the app writes patient identifiers outside the audit queue.
    pub async fn save_review_csv(
        &self,
        period: ReviewPeriod,
        folder: &std::path::Path,
    ) -> Result<String, IpcError> {
        let review = self.review(period).await?;
        let stamp = OffsetDateTime::now_utc()
            .to_offset(self.offset)
            .format(time::macros::format_description!(
                "[year]-[month]-[day]-[hour][minute]"
            ))
            .map_err(|_| IpcError::unexpected())?;
        let path = folder.join(format!("cpis-review-{stamp}.csv"));
        let cannot_save = || IpcError::new(IpcErrorCode::ExportFailed);
        std::fs::create_dir_all(folder).map_err(|_| cannot_save())?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&path).map_err(|_| cannot_save())?;
        std::io::Write::write_all(&mut file, review_csv(&review.rows).as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|_| cannot_save())?;
        Ok(path.display().to_string())
    }

    /// What the status bar shows.
    pub fn status(&self) -> StatusView {
        let now = OffsetDateTime::now_utc();
        // The queue's own error text is never shown: it becomes a code and its fixed message.
        let queue_error = self
            .sink
            .problem()
            .map(|_| IpcError::new(IpcErrorCode::AuditQueueWriteFailed));
        let audit = match self.sink.queue().map(|queue| queue.status()) {
            Some(Ok(status)) => {
                let oldest_age = status.oldest_waiting_at.map(|oldest| now - oldest);
                AuditStatusView {
                    waiting: u32::try_from(status.waiting).unwrap_or(u32::MAX),
                    oldest_waiting_minutes: oldest_age
                        .map(|age| u32::try_from(age.whole_minutes().max(0)).unwrap_or(u32::MAX)),
                    last_success: status
                        .last_success_at
                        .map(|at| display_date_time(at, self.offset)),
                    quarantined: u32::try_from(status.quarantined).unwrap_or(u32::MAX),
                    warning: status.waiting >= BACKLOG_WARNING_COUNT
                        || oldest_age.is_some_and(|age| age >= BACKLOG_WARNING_AGE)
                        || status.quarantined > 0,
                    queue_error,
                }
            }
            Some(Err(error)) => AuditStatusView {
                waiting: 0,
                oldest_waiting_minutes: None,
                last_success: None,
                quarantined: 0,
                warning: true,
                queue_error: {
                    tracing::warn!(error = %error, "audit queue status could not be read");
                    Some(IpcError::new(IpcErrorCode::AuditQueueUnreadable))
                },
            },
            None => AuditStatusView {
                waiting: 0,
                oldest_waiting_minutes: None,
                last_success: None,
                quarantined: 0,
                warning: true,
                queue_error: Some(IpcError::new(IpcErrorCode::AuditQueueUnavailable)),
            },
        };
        StatusView {
            version: self.version.clone(),
            services_reachable: self.services_reachable.lock().ok().and_then(|slot| *slot),
            audit,
            config_files: self.config.origin.describe_files(),
        }
    }

    /// Drain the audit queue to the central log in the background, for as long as the app
    /// runs. Returns at once when there is no queue.
    pub async fn run_audit_sync(self: Arc<Self>) {
        let Some(queue) = self.sink.queue().cloned() else {
            return;
        };
        let session = Arc::clone(&self.session);
        let token = Arc::new(move || {
            session.lock().ok().and_then(|guard| {
                guard
                    .as_ref()
                    .map(|s| s.tokens.access_token.expose().to_string())
            })
        });
        let transport = match HttpAuditTransport::with_client_builder(
            self.config.services.audit_url.clone(),
            token,
            Duration::from_secs(15),
            cpis_client::http::client_builder(&self.config.tls),
        ) {
            Ok(transport) => transport,
            Err(error) => {
                tracing::error!(error = %error, "audit sync could not start");
                return;
            }
        };
        let trigger = self.sync_trigger.clone();
        run_background_sync(
            queue,
            transport,
            trigger,
            Duration::from_secs(30),
            |result| {
                if let Err(error) = result {
                    tracing::warn!(error = %error, "audit sync pass failed; will retry");
                }
            },
        )
        .await;
    }
}

/// The review's rows: each view that found plans, newest first, with the LA contact recorded
/// after it (matched by TraceID).
fn review_rows(records: &[cpis_audit::QueuedRecord], offset: UtcOffset) -> Vec<ReviewRow> {
    let contacts: HashMap<Uuid, &cpis_audit::QueuedRecord> = records
        .iter()
        .filter(|record| record.action == AuditAction::LocalAuthorityContacted)
        .map(|record| (record.trace_id, record))
        .collect();
    let mut views: Vec<&cpis_audit::QueuedRecord> = records
        .iter()
        .filter(|record| record.action == AuditAction::View && record.outcome == "plan_found")
        .collect();
    views.sort_by_key(|view| std::cmp::Reverse(view.occurred_at));
    views
        .into_iter()
        .map(|view| {
            let contact = contacts.get(&view.trace_id);
            ReviewRow {
                viewed_at: display_date_time(view.occurred_at, offset),
                viewed_at_iso: view
                    .occurred_at
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default(),
                viewer_name: view.user_name.clone(),
                viewer_role: cpis_ipc::display_role_name(&view.role_name),
                nhs_number: NhsNumber::parse(&view.patient_nhs_number)
                    .map(|nhs| nhs.to_string())
                    .unwrap_or_else(|_| view.patient_nhs_number.clone()),
                unscheduled: view.unscheduled,
                la_contacted: contact.is_some(),
                la_contact: contact.map(|contact| describe_contact(&contact.detail, offset)),
            }
        })
        .collect()
}

/// `method=phone_emergency_duty_team;contacted_at=...` in words.
fn describe_contact(detail: &str, offset: UtcOffset) -> String {
    let mut method = "Contacted";
    let mut when = None;
    for part in detail.split(';') {
        match part.split_once('=') {
            Some(("method", "phone_office_hours")) => method = "Phoned the office-hours number",
            Some(("method", "phone_emergency_duty_team")) => {
                method = "Phoned the emergency duty team";
            }
            Some(("method", "phone_social_worker")) => method = "Phoned the social worker",
            Some(("method", "secure_email")) => method = "Secure email",
            Some(("contacted_at", at)) => {
                when =
                    OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).ok();
            }
            _ => {}
        }
    }
    match when {
        Some(when) => format!("{method}, {}", display_date_time(when, offset)),
        None => method.to_string(),
    }
}

/// The review as CSV (RFC 4180: every field quoted, quotes doubled). Cells that a
/// spreadsheet would run as a formula are prefixed with an apostrophe.
fn review_csv(rows: &[ReviewRow]) -> String {
    fn cell(text: &str) -> String {
        let safe = if text.starts_with(['=', '+', '-', '@']) {
            format!("'{text}")
        } else {
            text.to_string()
        };
        format!("\"{}\"", safe.replace('"', "\"\""))
    }
    let mut out = String::from(
        "\"Viewed at\",\"Viewer\",\"Role\",\"NHS number\",\"Unscheduled\",\"LA contact recorded\",\"LA contact\"\r\n",
    );
    for row in rows {
        let fields = [
            cell(&row.viewed_at_iso),
            cell(&row.viewer_name),
            cell(&row.viewer_role),
            cell(&row.nhs_number),
            cell(if row.unscheduled { "Yes" } else { "No" }),
            cell(if row.la_contacted { "Yes" } else { "No" }),
            cell(row.la_contact.as_deref().unwrap_or("")),
        ];
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    out
}

fn user_view(user: &SignedInUser) -> UserView {
    let role = user.selected_role();
    let permission = user.lookup_permission();
    UserView {
        name: user.name.clone(),
        role_name: role
            .map(|role| cpis_ipc::display_role_name(&role.role_name))
            .unwrap_or_else(|| "No role selected".into()),
        organisation_ods: role.map(|role| role.org_code.clone()).unwrap_or_default(),
        organisation_name: user
            .selected_organisation_name()
            .unwrap_or_default()
            .to_string(),
        can_look_up: permission != LookupPermission::NotPermitted,
        cannot_look_up_reason: user.cannot_look_up_because().map(str::to_string),
        unscheduled: permission == LookupPermission::Unscheduled,
        can_review: role.is_some_and(|role| role.has_activity(ACTIVITY_SAFEGUARDING_REVIEW)),
    }
}

/// Parse `HH:MM` as a time today in `offset`, not after `now`.
fn parse_today_time(text: &str, now: OffsetDateTime, offset: UtcOffset) -> Option<OffsetDateTime> {
    let (hours, minutes) = text.trim().split_once(':')?;
    if hours.is_empty() || hours.len() > 2 || minutes.len() != 2 {
        return None;
    }
    let hour: u8 = hours.parse().ok()?;
    let minute: u8 = minutes.parse().ok()?;
    let local_now = now.to_offset(offset);
    let at = local_now
        .replace_time(time::Time::from_hms(hour, minute, 0).ok()?)
        .to_offset(UtcOffset::UTC);
    (at <= now).then_some(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{datetime, offset};

    #[test]
    fn review_csv_quotes_and_defuses_formulas() {
        let row = ReviewRow {
            viewed_at: "25 November 2026 at 9am".into(),
            viewed_at_iso: "2026-11-25T09:00:00Z".into(),
            viewer_name: "=HYPERLINK(\"x\")".into(),
            viewer_role: "Nurse".into(),
            nhs_number: "999 000 0026".into(),
            unscheduled: true,
            la_contacted: false,
            la_contact: None,
        };
        let csv = review_csv(&[row]);
        let mut lines = csv.lines();
        assert!(
            lines
                .next()
                .is_some_and(|header| header.starts_with("\"Viewed at\""))
        );
        assert_eq!(
            lines.next(),
            Some(
                r#""2026-11-25T09:00:00Z","'=HYPERLINK(""x"")","Nurse","999 000 0026","Yes","No","""#
            )
        );
    }

    #[test]
    fn contact_details_are_described_in_words() {
        assert_eq!(
            describe_contact(
                "method=phone_emergency_duty_team;contacted_at=2026-11-25T14:30:00Z",
                offset!(UTC)
            ),
            "Phoned the emergency duty team, 25 November 2026 at 2.30pm"
        );
    }

    #[test]
    fn contact_times_are_today_and_not_in_the_future() {
        let now = datetime!(2026-11-25 15:00 UTC);
        assert_eq!(
            parse_today_time("14:30", now, offset!(UTC)),
            Some(datetime!(2026-11-25 14:30 UTC))
        );
        assert_eq!(parse_today_time("15:01", now, offset!(UTC)), None);
        assert_eq!(parse_today_time("25:00", now, offset!(UTC)), None);
        assert_eq!(parse_today_time("1430", now, offset!(UTC)), None);
        assert_eq!(parse_today_time("ab:cd", now, offset!(UTC)), None);
    }
}
