// Drives the unmodified twilio-taskrouter Worker SDK for the Python tests.
// stdin: one JSON command a line, {"req": n, "cmd": "...", ...}.
// stdout: one JSON line per reply ({"type": "reply", "req", "ok", "value" | "error"}) and per
// SDK event ({"type": "event", "worker", "name", ...}).
'use strict';
const readline = require('readline');
const { Worker } = require('twilio-taskrouter');

const workers = new Map();
const watched = new WeakSet();

function out(message) {
  process.stdout.write(JSON.stringify(message) + '\n');
}

function validDate(d) {
  return d instanceof Date && !Number.isNaN(d.getTime()) ? d.toISOString() : null;
}

function taskView(task) {
  if (!task) return null;
  return {
    sid: task.sid,
    status: task.status,
    attributes: task.attributes,
    queueSid: task.queueSid,
    queueName: task.queueName,
    workflowSid: task.workflowSid,
    workflowName: task.workflowName,
    priority: task.priority,
    age: task.age,
    reason: task.reason,
    version: task.version,
    channel: task.taskChannelUniqueName,
    dateCreated: validDate(task.dateCreated),
    dateUpdated: validDate(task.dateUpdated),
  };
}

function reservationView(r) {
  return {
    sid: r.sid,
    status: r.status,
    workerSid: r.workerSid,
    timeout: r.timeout,
    version: r.version,
    dateCreated: validDate(r.dateCreated),
    task: taskView(r.task),
  };
}

function watch(id, reservation) {
  if (watched.has(reservation)) return;
  watched.add(reservation);
  for (const name of ['accepted', 'rejected', 'timeout', 'canceled', 'rescinded', 'completed', 'wrapup']) {
    reservation.on(name, (r) => out({ type: 'event', worker: id, name: 'reservation.' + name, reservation: reservationView(r) }));
  }
  const task = reservation.task;
  if (task && !watched.has(task)) {
    watched.add(task);
    for (const name of ['completed', 'canceled', 'updated', 'wrapup']) {
      task.on(name, (t) => out({ type: 'event', worker: id, name: 'task.' + name, task: taskView(t) }));
    }
  }
}

function connect(c) {
  const worker = new Worker(c.token, Object.assign({ ebServer: c.ebServer, wsServer: c.wsServer, logLevel: 'silent' }, c.options || {}));
  workers.set(c.id, worker);
  worker.on('ready', (w) => {
    const reservations = Array.from(w.reservations.values());
    reservations.forEach((r) => watch(c.id, r));
    out({
      type: 'event', worker: c.id, name: 'ready', sid: w.sid,
      activity: w.activity ? w.activity.name : null,
      activities: Array.from(w.activities.values()).map((a) => a.name).sort(),
      channels: Array.from(w.channels.values()).map((ch) => ch.taskChannelUniqueName).sort(),
      reservations: reservations.map(reservationView),
      attributes: w.attributes,
      dateCreated: validDate(w.dateCreated),
    });
  });
  worker.on('activityUpdated', (w) => out({ type: 'event', worker: c.id, name: 'activityUpdated', activity: w.activity.name, available: w.available }));
  worker.on('attributesUpdated', (w) => out({ type: 'event', worker: c.id, name: 'attributesUpdated', attributes: w.attributes }));
  worker.on('reservationCreated', (r) => {
    watch(c.id, r);
    out({ type: 'event', worker: c.id, name: 'reservationCreated', reservation: reservationView(r) });
  });
  worker.on('disconnected', (e) => out({ type: 'event', worker: c.id, name: 'disconnected', message: e && e.message }));
  worker.on('error', (e) => out({ type: 'event', worker: c.id, name: 'error', message: String(e && e.message || e) }));
  worker.on('tokenExpired', () => out({ type: 'event', worker: c.id, name: 'tokenExpired' }));
  return null;
}

function reservationOf(c) {
  const worker = workers.get(c.id);
  const r = worker.reservations.get(c.reservation);
  if (!r) throw new Error('worker ' + c.id + ' has no reservation ' + c.reservation);
  return r;
}

const commands = {
  connect,
  setActivity: async (c) => {
    const worker = workers.get(c.id);
    const activity = Array.from(worker.activities.values()).find((a) => a.name === c.activity);
    if (!activity) throw new Error('no activity ' + c.activity);
    const options = c.rejectPendingReservations ? { rejectPendingReservations: true } : undefined;
    await activity.setAsCurrent(options);
    return { activity: worker.activity.name };
  },
  setAttributes: async (c) => {
    const worker = await workers.get(c.id).setAttributes(c.attributes);
    return { attributes: worker.attributes };
  },
  accept: async (c) => reservationView(await reservationOf(c).accept()),
  reject: async (c) => reservationView(await reservationOf(c).reject(c.activitySid ? { activitySid: c.activitySid } : undefined)),
  completeTask: async (c) => taskView(await reservationOf(c).task.complete(c.reason)),
  wrapTask: async (c) => taskView(await reservationOf(c).task.wrapUp({ reason: c.reason })),
  completeReservation: async (c) => reservationView(await reservationOf(c).complete()),
  fetchReservation: async (c) => reservationView(await reservationOf(c).fetchLatestVersion()),
  state: async (c) => {
    const w = workers.get(c.id);
    return {
      activity: w.activity ? w.activity.name : null,
      reservations: Array.from(w.reservations.values()).map(reservationView),
    };
  },
  disconnect: async (c) => {
    const worker = workers.get(c.id);
    if (worker) worker.disconnect();
    workers.delete(c.id);
    return null;
  },
};

process.on('uncaughtException', (e) => out({ type: 'uncaught', message: String(e && e.stack || e) }));
process.on('unhandledRejection', (e) => out({ type: 'uncaught', message: String(e && e.stack || e) }));

const lines = readline.createInterface({ input: process.stdin });
lines.on('line', async (line) => {
  let c;
  try {
    c = JSON.parse(line);
  } catch (e) {
    out({ type: 'uncaught', message: 'bad command line: ' + line });
    return;
  }
  try {
    const value = await commands[c.cmd](c);
    out({ type: 'reply', req: c.req, ok: true, value: value === undefined ? null : value });
  } catch (e) {
    out({ type: 'reply', req: c.req, ok: false, error: String(e && e.message || e) });
  }
});
lines.on('close', () => {
  for (const worker of workers.values()) worker.disconnect();
  setTimeout(() => process.exit(0), 100);
});
