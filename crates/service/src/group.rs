//! Group commit: concurrent orders share one transaction and one durable commit.
//!
//! Each order handed to [`Services::in_group`] goes to a writer task. A writer takes
//! what waits for it, and while groups are forming (its last group held more than one
//! order) waits up to [`GroupCommit::window`] for as many as its last group held, never
//! more than [`GroupCommit::max_group`]. It then runs the group in one transaction, each
//! order between a savepoint and its release: a refused order is rolled back to its
//! savepoint alone and gets its own error, its neighbours are kept. One commit, then
//! every caller gets its own answer: nobody hears of success before the commit that
//! holds their order.
//!
//! What cannot be settled inside the group is given back to its caller, which runs the
//! order alone in its own transaction (the ordinary path, with its retries): an order
//! that met a storage conflict, every order of a group whose transaction broke (a
//! savepoint that could not be set or rolled back to) or whose commit conflicted. A
//! commit that failed otherwise answers every order of the group with that error, as
//! a lone order's failed commit would.
//!
//! Orders are spread over the writers by a key of their customer (the phone number), so
//! one customer's orders keep their order, and two groups — committed in parallel on
//! PostgreSQL — never wait for each other's account locks.

use crate::error::UseCaseError;
use crate::{IngestError, OrderReceipt, Services, WebhookEndpoint, WebhookError, WebhookReceipt};
use regulars_domain::{BrandId, EventKey, Order};
use regulars_ports::{PosEvent, StoreError, Transaction, VerifiedEvent};
use std::future::Future;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// How orders are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupCommit {
    /// How long a writer waits for more orders once one has arrived (only while groups
    /// are forming).
    pub window: Duration,
    /// The most orders in one transaction.
    pub max_group: usize,
    /// Writers, each with its own transaction at a time (1 on SQLite, which has a
    /// single writer anyway).
    pub writers: usize,
}

/// The default window: short against a commit's own wait for the disk.
pub const GROUP_WINDOW: Duration = Duration::from_millis(2);
/// The default largest group.
pub const MAX_GROUP: usize = 64;

impl Default for GroupCommit {
    fn default() -> Self {
        GroupCommit {
            window: GROUP_WINDOW,
            max_group: MAX_GROUP,
            writers: 1,
        }
    }
}

/// A boxed future borrowing the writer's transaction.
pub(crate) type GroupFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One use case that can run inside a group's transaction.
pub(crate) trait GroupWork: Send + Sync + 'static {
    /// What it answers.
    type Output: Send + 'static;
    /// Why it fails.
    type Error: UseCaseError + From<StoreError> + Send + 'static;
    /// Which customer it is for: works with the same key go to the same writer.
    fn customer_key(&self) -> u64;
    /// Runs it in `tx`; on an error, the caller undoes what it wrote.
    fn run<'a>(
        &'a self,
        services: &'a Services,
        tx: &'a mut dyn Transaction,
    ) -> GroupFuture<'a, Result<Self::Output, Self::Error>>;
}

/// A hash of a customer key, the same in every process.
pub(crate) fn customer_key(key: impl Hash) -> u64 {
    let mut hasher = DefaultHasher::new();
    key.hash(&mut hasher);
    hasher.finish()
}

/// What a writer answers a caller.
enum Answer<T, E> {
    /// The outcome, committed (or the failure).
    Done(Result<T, E>),
    /// Run it alone.
    Alone,
}

/// A work waiting in a group, type-erased for the writer.
trait Pending: Send {
    /// Runs the work; true when it succeeded (its writes are kept).
    fn run<'a>(
        &'a mut self,
        services: &'a Services,
        tx: &'a mut dyn Transaction,
    ) -> GroupFuture<'a, bool>;
    /// Answers after the group's commit.
    fn answer(self: Box<Self>);
    /// Sends the work back to its caller to run alone.
    fn alone(self: Box<Self>);
    /// Answers with the group's failure.
    fn fail(self: Box<Self>, error: StoreError);
}

struct Slot<W: GroupWork> {
    work: Arc<W>,
    result: Option<Result<W::Output, W::Error>>,
    reply: oneshot::Sender<Answer<W::Output, W::Error>>,
}

impl<W: GroupWork> Pending for Slot<W> {
    fn run<'a>(
        &'a mut self,
        services: &'a Services,
        tx: &'a mut dyn Transaction,
    ) -> GroupFuture<'a, bool> {
        Box::pin(async move {
            let result = self.work.run(services, tx).await;
            let kept = result.is_ok();
            self.result = Some(result);
            kept
        })
    }

    fn answer(self: Box<Self>) {
        let answer = match self.result {
            Some(Err(error)) if error.is_conflict() => Answer::Alone,
            Some(result) => Answer::Done(result),
            None => Answer::Alone,
        };
        // A caller that went away no longer needs its answer; its order stands.
        let _ = self.reply.send(answer);
    }

    fn alone(self: Box<Self>) {
        let _ = self.reply.send(Answer::Alone);
    }

    fn fail(self: Box<Self>, error: StoreError) {
        let _ = self.reply.send(Answer::Done(Err(error.into())));
    }
}

type Queue = mpsc::Sender<Box<dyn Pending>>;

/// The writers of one [`Services`] and its clones, started on first use.
pub(crate) struct Groups {
    options: GroupCommit,
    queues: OnceLock<Vec<Queue>>,
}

impl Groups {
    pub(crate) fn new(options: GroupCommit) -> Self {
        Groups {
            options: GroupCommit {
                window: options.window,
                max_group: options.max_group.max(1),
                writers: options.writers.max(1),
            },
            queues: OnceLock::new(),
        }
    }

    /// The queue of the writer for `key`, the writers started if need be (by a task of
    /// a Tokio runtime: on first use, never at construction).
    fn queue(&self, services: &Services, key: u64) -> Option<&Queue> {
        let queues = self.queues.get_or_init(|| {
            (0..self.options.writers)
                .map(|_| {
                    let (queue, rx) = mpsc::channel(self.options.max_group.saturating_mul(4));
                    // The writer's own copy has no groups: it holds no queue, so the
                    // writers stop once every `Services` that sends to them is gone.
                    let writer = services.without_groups();
                    tokio::spawn(write(writer, rx, self.options));
                    queue
                })
                .collect()
        });
        let index = usize::try_from(key % queues.len() as u64).unwrap_or(0);
        queues.get(index)
    }
}

impl Services {
    /// Groups concurrent orders into shared transactions (see [`GroupCommit`]).
    pub fn with_group_commit(mut self, options: GroupCommit) -> Self {
        self.groups = Some(Arc::new(Groups::new(options)));
        self
    }

    /// A copy without group commit: what a writer runs its groups with.
    fn without_groups(&self) -> Services {
        let mut services = self.clone();
        services.groups = None;
        services
    }

    /// Runs `work` in a group's transaction and gives its committed outcome; `None`
    /// when group commit is off or the work is to be run alone by the caller.
    pub(crate) async fn in_group<W: GroupWork>(
        &self,
        work: &Arc<W>,
    ) -> Option<Result<W::Output, W::Error>> {
        let groups = self.groups.as_ref()?;
        let queue = groups.queue(self, work.customer_key())?;
        let (reply, answer) = oneshot::channel();
        let slot: Box<dyn Pending> = Box::new(Slot {
            work: work.clone(),
            result: None,
            reply,
        });
        queue.send(slot).await.ok()?;
        match answer.await {
            Ok(Answer::Done(result)) => Some(result),
            // A writer that stopped without answering rolled its transaction back.
            Ok(Answer::Alone) | Err(_) => None,
        }
    }

    /// Runs one group: one transaction, one savepoint per work, one commit.
    async fn commit_group(&self, mut group: Vec<Box<dyn Pending>>) {
        let mut tx = match self.uow.begin().await {
            Ok(tx) => tx,
            Err(error) => return fail_all(group, error),
        };
        for pending in &mut group {
            let kept = match tx.savepoint().await {
                Ok(()) => pending.run(self, tx.as_mut()).await,
                Err(error) => return broken(tx, group, error).await,
            };
            let ended = if kept {
                tx.release_savepoint().await
            } else {
                tx.rollback_to_savepoint().await
            };
            if let Err(error) = ended {
                return broken(tx, group, error).await;
            }
        }
        match tx.commit().await {
            Ok(()) => {
                self.bell.ring_if_armed();
                group.into_iter().for_each(Pending::answer);
            }
            Err(error) => fail_all(group, error),
        }
    }
}

/// A transaction that can no longer be used: rolled back, and every work of the
/// group run again alone.
async fn broken(tx: Box<dyn Transaction>, group: Vec<Box<dyn Pending>>, error: StoreError) {
    tracing::warn!(%error, orders = group.len(), "group transaction broken; its orders run alone");
    if let Err(rollback) = tx.rollback().await {
        tracing::warn!(%rollback, "rollback failed");
    }
    group.into_iter().for_each(Pending::alone);
}

/// A begin or commit that failed: a conflict runs every work again alone; any other
/// failure is every work's answer, as it would be for a work alone.
fn fail_all(group: Vec<Box<dyn Pending>>, error: StoreError) {
    if matches!(error, StoreError::Conflict(_)) {
        group.into_iter().for_each(Pending::alone);
    } else {
        for pending in group {
            pending.fail(error.clone());
        }
    }
}

/// A writer: takes groups from its queue until every sender is gone.
async fn write(
    services: Services,
    mut queue: mpsc::Receiver<Box<dyn Pending>>,
    options: GroupCommit,
) {
    let mut last = 1;
    while let Some(first) = queue.recv().await {
        let mut group = vec![first];
        while group.len() < options.max_group {
            match queue.try_recv() {
                Ok(pending) => group.push(pending),
                Err(_) => break,
            }
        }
        let expected = last.min(options.max_group);
        if last > 1 && group.len() < expected && !options.window.is_zero() {
            let deadline = tokio::time::Instant::now() + options.window;
            while group.len() < expected {
                match tokio::time::timeout_at(deadline, queue.recv()).await {
                    Ok(Some(pending)) => group.push(pending),
                    Ok(None) | Err(_) => break,
                }
            }
        }
        last = group.len();
        services.commit_group(group).await;
    }
}

/// An order from a till or the API.
pub(crate) struct OrderWork {
    pub(crate) brand: BrandId,
    pub(crate) order: Order,
}

impl GroupWork for OrderWork {
    type Output = OrderReceipt;
    type Error = IngestError;

    fn customer_key(&self) -> u64 {
        order_key(self.brand, &self.order)
    }

    fn run<'a>(
        &'a self,
        services: &'a Services,
        tx: &'a mut dyn Transaction,
    ) -> GroupFuture<'a, Result<OrderReceipt, IngestError>> {
        Box::pin(services.ingest_in(tx, self.brand, &self.order))
    }
}

/// An order from a POS webhook, its keys already scoped.
pub(crate) struct WebhookOrderWork {
    pub(crate) endpoint: WebhookEndpoint,
    pub(crate) key: EventKey,
    pub(crate) event: VerifiedEvent,
    pub(crate) legacy: Option<EventKey>,
}

impl GroupWork for WebhookOrderWork {
    type Output = WebhookReceipt;
    type Error = WebhookError;

    fn customer_key(&self) -> u64 {
        match &self.event.event {
            PosEvent::Order(order) => order_key(self.endpoint.brand, order),
            _ => customer_key(&self.key),
        }
    }

    fn run<'a>(
        &'a self,
        services: &'a Services,
        tx: &'a mut dyn Transaction,
    ) -> GroupFuture<'a, Result<WebhookReceipt, WebhookError>> {
        Box::pin(services.receive_in(
            tx,
            &self.endpoint,
            &self.key,
            &self.event,
            None,
            self.legacy.as_ref(),
        ))
    }
}

/// The writer key of an order: its customer's phone, or its own key without one.
fn order_key(brand: BrandId, order: &Order) -> u64 {
    match &order.customer_phone {
        Some(phone) => customer_key((brand, phone.as_str())),
        None => customer_key((brand, &order.key)),
    }
}
