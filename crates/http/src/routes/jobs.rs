//! Background jobs: `POST /v1/scoring/runs` starts one (202), `GET /v1/jobs/{id}` shows
//! it. The work runs off the request (its CPU-bound part on a blocking thread), one of
//! a kind per brand at a time: a second start while one runs returns the running job.

use crate::AppState;
use crate::auth::Caller;
use crate::dto::ScoringRunDto;
use crate::error::{ApiError, ErrorBody};
use crate::routes::id;
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use regulars_service::{ErrorClass, Job, JobKind, JobState, ScoringOptions, UseCaseError};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// A background job and, once done, its result.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobDto {
    /// Its id: poll `GET /v1/jobs/{id}`.
    pub id: Uuid,
    /// What it does: `scoring`.
    pub kind: String,
    /// `running`, `succeeded` or `failed`.
    pub status: String,
    /// When it started.
    pub started_at: String,
    /// When it finished.
    pub finished_at: Option<String>,
    /// The scoring run, once a scoring job succeeded.
    pub scoring_run: Option<ScoringRunDto>,
    /// Why it failed.
    pub error: Option<String>,
}

impl From<&Job> for JobDto {
    fn from(job: &Job) -> Self {
        let (status, scoring_run, error) = match &job.state {
            JobState::Running => ("running", None, None),
            JobState::Scored(run) => ("succeeded", Some(ScoringRunDto::from(run)), None),
            JobState::Failed(message) => ("failed", None, Some(message.clone())),
        };
        JobDto {
            id: job.id,
            kind: job.kind.as_str().to_owned(),
            status: status.to_owned(),
            started_at: crate::dto::rfc3339(job.started_at),
            finished_at: job.finished_at.map(crate::dto::rfc3339),
            scoring_run,
            error,
        }
    }
}

fn accepted(job: &Job) -> HttpResponse {
    HttpResponse::Accepted()
        .insert_header((header::LOCATION, format!("/v1/jobs/{}", job.id)))
        .json(JobDto::from(job))
}

/// Starts a scoring run of the key's brand (admin) and answers 202 with its job; while
/// one runs, answers 202 with that one. Poll `GET /v1/jobs/{id}` for the run.
#[utoipa::path(post, path = "/v1/scoring/runs", tag = "segments", security(("api_key" = [])),
    responses((status = 202, body = JobDto, description = "The job (a new one, or the brand's running one)"), (status = 403, body = ErrorBody)))]
pub(crate) async fn run_scoring(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let (job, started) = state.services.begin_job(brand, JobKind::Scoring);
    if started {
        let services = state.services.clone();
        let metrics = state.metrics.clone();
        let id = job.id;
        actix_web::rt::spawn(async move {
            let run = services
                .score_brand(brand, &ScoringOptions::default())
                .await;
            metrics.record_scoring_run(run.is_ok());
            let state = match run {
                Ok(run) => JobState::Scored(run),
                Err(error) => {
                    tracing::error!(%brand, %error, "scoring job failed");
                    JobState::Failed(match error.class() {
                        ErrorClass::Internal | ErrorClass::Unavailable => {
                            "internal error; it has been logged".to_owned()
                        }
                        _ => error.to_string(),
                    })
                }
            };
            services.finish_job(id, state);
        });
    }
    Ok(accepted(&job))
}

/// One of the brand's jobs (admin); 404 for an unknown id or another brand's job.
/// Finished jobs are kept for an hour.
#[utoipa::path(get, path = "/v1/jobs/{id}", tag = "segments", security(("api_key" = [])),
    params(("id" = Uuid, Path, description = "The job id")),
    responses((status = 200, body = JobDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let job: Uuid = id(&path, "job")?;
    match state.services.job(brand, job) {
        Some(job) => Ok(HttpResponse::Ok().json(JobDto::from(&job))),
        None => Err(ApiError::not_found("job", "job")),
    }
}
