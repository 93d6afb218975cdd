// Whether a client may start one more cold build (issue 13, "fair and bounded building"). Asked
// by BuildCoordinator where a cold build is about to be claimed: after the image record and a
// remembered failure were looked for (a warm pull never gets here, so it is never limited) and
// after the package index has refused unknown names (so made-up names cost no budget either).
//
//   1. Queued builds per client (NIXERY_MAX_QUEUED_PER_CLIENT). The worker takes jobs first in,
//      first out; a cap on what one client may have waiting bounds how far one client's backlog
//      can push everyone else's builds back, which is the fairness the queue itself cannot give
//      (issue 13: 300 names ahead of one real pull). Each admitted build holds a slot from the
//      admission until its status says it settled. Slots are counted in this process: it admits
//      a build only while the client holds fewer than the cap, and when it holds that many it
//      first reads the status of each (BuildLedger; cap reads at most) to free those that ended,
//      wherever they were built. With several HTTP instances each counts the builds it admitted,
//      so a client reaching n instances may have up to n × cap queued.
//   2. Cold builds per client and minute (NIXERY_BUILD_RATE), a token bucket (ClientRate).
//
// The cap is checked first, so a build refused for it does not also spend the client's rate.
// Refusals are 429 TOOMANYREQUESTS with Retry-After and a message that names the setting:
// podman, skopeo and containerd retry 429 by themselves, and docker prints the message.
using Nixery.Core.Builds;
using Nixery.Core.Errors;
using Nixery.Core.Options;
using Nixery.Core.Storage;

namespace Nixery.Functions.Builds;

public sealed class BuildAdmission(LimitOptions limits, BuildWaitOptions wait, StatusOptions status, RegistryStore store, BuildLedger ledger, TimeProvider time, ILogger<BuildAdmission> logger) : IDisposable
{
    /// <summary>Admissions between two sweeps of old slots (Sweep).</summary>
    private const int SweepEvery = 1024;

    private int _admissions;

    private readonly ClientRate _rate = new(limits.BuildRatePerMinute);

    /// <summary>Per client: image key → its slot.</summary>
    private readonly Dictionary<string, Dictionary<string, Slot>> _slots = new(StringComparer.Ordinal);

    /// <summary>The builds <paramref name="client"/> holds slots for now (tests and logs).</summary>
    public int Queued(string client)
    {
        lock (_slots)
        {
            return _slots.TryGetValue(client, out var mine) ? mine.Count : 0;
        }
    }

    /// <summary>Admits one cold build of <paramref name="imageKey"/> for <paramref name="client"/>,
    /// holding a slot for it; throws 429 when a limit refuses it. The caller then says whether
    /// its claim enqueued the job (Claimed): a slot no request enqueued for is given back.</summary>
    public async Task AdmitAsync(string client, string imageKey, CancellationToken ct)
    {
        var cap = limits.MaxQueuedPerClient;
        if (cap > 0 && Interlocked.Increment(ref _admissions) % SweepEvery == 0)
        {
            Sweep();
        }

        if (cap > 0 && !TryReserve(client, imageKey, cap))
        {
            await FreeSettledAsync(client, ct);
            if (!TryReserve(client, imageKey, cap))
            {
                logger.LogInformation("client {Client} has {Queued} builds queued, the most NIXERY_MAX_QUEUED_PER_CLIENT allows; answering 429", client, cap);
                throw new RegistryException(
                    ErrorCode.TooManyRequests,
                    $"you have {cap} images queued or building, the most one client may have at once ({LimitOptions.MaxQueuedKey}); retry once one is built, or ask the operator to raise {LimitOptions.MaxQueuedKey}",
                    new Dictionary<string, string> { ["Retry-After"] = ClientRate.Header(wait.RetryAfterSeconds) });
            }
        }

        if (!_rate.TryTake(client, out var retryAfter))
        {
            Claimed(client, imageKey, enqueued: false);
            logger.LogInformation("client {Client} passed NIXERY_BUILD_RATE ({Rate} cold builds a minute); answering 429 with Retry-After {RetryAfter}", client, limits.BuildRatePerMinute, retryAfter);
            throw new RegistryException(
                ErrorCode.TooManyRequests,
                $"you started {limits.BuildRatePerMinute} builds of new images within a minute, your cold-build rate ({LimitOptions.BuildRateKey}); images already built pull without limit. Retry in {retryAfter} s, or ask the operator to raise {LimitOptions.BuildRateKey}",
                new Dictionary<string, string> { ["Retry-After"] = ClientRate.Header(retryAfter) });
        }
    }

    /// <summary>Ends one admission of AdmitAsync: <paramref name="enqueued"/>, its claim won and
    /// the job is queued, so the slot stands until the build settles; otherwise (another request
    /// claimed the build, or a limit refused it) the slot goes unless some admission enqueued
    /// for it or still may (two requests of one client for one new image share its slot).</summary>
    public void Claimed(string client, string imageKey, bool enqueued)
    {
        if (limits.MaxQueuedPerClient <= 0)
        {
            return;
        }

        lock (_slots)
        {
            if (!_slots.TryGetValue(client, out var mine) || !mine.TryGetValue(imageKey, out var slot))
            {
                return;
            }

            slot.Pending--;
            slot.Enqueued |= enqueued;
            if (slot.Pending <= 0 && !slot.Enqueued)
            {
                Free(mine, client, imageKey);
            }
        }
    }

    public void Dispose() => _rate.Dispose();

    private bool TryReserve(string client, string imageKey, int cap)
    {
        lock (_slots)
        {
            if (!_slots.TryGetValue(client, out var mine))
            {
                mine = new Dictionary<string, Slot>(StringComparer.Ordinal);
                _slots[client] = mine;
            }

            if (mine.TryGetValue(imageKey, out var shared))
            {
                shared.Pending++;
                return true;
            }

            if (mine.Count >= cap)
            {
                return false;
            }

            mine[imageKey] = new Slot { Pending = 1, Taken = time.GetUtcNow() };
            return true;
        }
    }

    /// <summary>Frees the slots of <paramref name="client"/>'s builds that ended: the image is
    /// recorded, or its status is settled (done, failed), stale (its job is lost and a later
    /// claim owns it) or gone. A slot with an admission still pending (its claim may not be
    /// written yet) is kept.</summary>
    private async Task FreeSettledAsync(string client, CancellationToken ct)
    {
        List<(string Key, Slot Slot)> held;
        lock (_slots)
        {
            held = _slots.TryGetValue(client, out var mine) ? [.. mine.Select(s => (s.Key, s.Value))] : [];
        }

        foreach (var (key, slot) in held)
        {
            if (slot.Pending > 0)
            {
                continue;
            }

            var status = await ledger.GetAsync(key, ct);
            var running = status is { State: BuildState.Queued or BuildState.Building } && !ledger.IsStale(status);
            if (!running || await store.GetImageAsync(key, ct) is not null)
            {
                lock (_slots)
                {
                    if (_slots.TryGetValue(client, out var mine) && mine.TryGetValue(key, out var current) && current == slot && current.Pending <= 0)
                    {
                        Free(mine, client, key);
                    }
                }
            }
        }
    }

    /// <summary>Slots are otherwise looked at only when their client reaches the cap, so a client
    /// that never does would keep its settled ones for good: every SweepEvery admissions, slots
    /// older than NIXERY_BUILD_STALE (after which the ledger calls a queued build lost too) go.</summary>
    private void Sweep()
    {
        var before = time.GetUtcNow() - status.BuildStaleAfter;
        lock (_slots)
        {
            foreach (var (client, mine) in _slots.ToList())
            {
                foreach (var (key, slot) in mine.ToList())
                {
                    if (slot.Pending <= 0 && slot.Taken < before)
                    {
                        Free(mine, client, key);
                    }
                }
            }
        }
    }

    /// <summary>Removes a slot; called under the lock.</summary>
    private void Free(Dictionary<string, Slot> mine, string client, string imageKey)
    {
        mine.Remove(imageKey);
        if (mine.Count == 0)
        {
            _slots.Remove(client);
        }
    }

    /// <summary>One build a client holds a place for. Pending: admissions not yet Claimed;
    /// Enqueued: one of them enqueued the job. Changed only under the lock.</summary>
    private sealed class Slot
    {
        public DateTimeOffset Taken { get; init; }

        public int Pending { get; set; }

        public bool Enqueued { get; set; }
    }
}
