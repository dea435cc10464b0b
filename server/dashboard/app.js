// The hotstats serve dashboard: plain browser JavaScript, no build step, no framework.
// Live numbers come from the server-sent events of /api/v1/live (one tick a second; on connect
// the server replays the last 5 minutes of ticks); the chosen series, the top-k by cardinality,
// the control chart, the A/B panel and, with --redis, the cluster's nodes are fetched every 2 s
// from the JSON API (docs/server-api.md). Every figure shown is also in the DOM with a stable
// data-testid (and the raw number in data-value), and the last data drawn in each chart is in
// window.__hotstats.charts, so a test can read what the page shows.
'use strict'
;(function () {
  var API = '/api/v1'
  var POLL_MS = 2000
  var SERIES_LIST_MS = 5000
  var SERVER_MS = 5000
  var STALE_MS = 3500 // no tick for this long: the stream is not live
  var WATCHDOG_MS = 5000 // no tick for this long: drop the stream and open a new one
  var INGEST_POINTS = 300 // 5 minutes of one-second ticks
  var HISTORY_SECONDS = 300 // the finest tier's span: what /history and /spc can show
  // A node whose last publish is older than 3 publish intervals is behind. /api/v1/server does
  // not report the interval (yet): 3 × redis.publishIntervalMs when it does, 5 s until then.
  var CLUSTER_STALE_MS = 5000
  // With `--auth-token`, open the page as /?access_token=TOKEN: fetches send it as a bearer
  // token, the event stream (which cannot send headers) as the access_token parameter.
  var TOKEN = new URLSearchParams(location.search).get('access_token')

  var hs = (window.__hotstats = {
    charts: {}, // name -> { series: [x[], y1[], ...], updated }
    live: null, // the last tick of /api/v1/live
    server: null, // the server as the last tick or /api/v1/server described it
    cluster: null, // the last /api/v1/cluster answer (with --redis), plus serverNow (ms)
    scope: 'node', // whose numbers the chosen series shows: 'node' or 'cluster'
    selected: null, // { key, name, tags, type }
    spc: null,
    ab: null,
    connection: 'connecting',
    restarts: 0,
  })

  // ---------- small helpers ----------

  function $(sel, root) {
    return (root || document).querySelector(sel)
  }
  function byTestId(id) {
    return document.querySelector('[data-testid="' + id + '"]')
  }
  function el(tag, attrs, children) {
    var e = document.createElement(tag)
    if (attrs) {
      for (var k in attrs) {
        if (attrs[k] == null) continue
        if (k === 'text') e.textContent = attrs[k]
        else if (k === 'class') e.className = attrs[k]
        else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), attrs[k])
        else e.setAttribute(k, attrs[k])
      }
    }
    if (children) children.forEach(function (c) { if (c != null) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c) })
    return e
  }
  function isNum(x) {
    return typeof x === 'number' && isFinite(x)
  }
  var intFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })
  var bigFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 })
  // Numbers for people: grouped integers; 4 significant digits below 1000, one decimal above.
  function fmt(x) {
    if (x == null) return '—'
    if (typeof x !== 'number') return String(x)
    if (!isFinite(x)) return String(x)
    if (Number.isInteger(x) && Math.abs(x) < 1e15) return intFmt.format(x)
    var a = Math.abs(x)
    if (a !== 0 && (a < 1e-3 || a >= 1e12)) return x.toExponential(3)
    if (a >= 1000) return bigFmt.format(x)
    return String(Number(x.toPrecision(4)))
  }
  function fmtP(p) {
    if (!isNum(p)) return '—'
    if (p < 1e-4) return p.toExponential(2)
    return p.toFixed(4)
  }
  function fmtPct(r) {
    return isNum(r) ? (r * 100).toFixed(2) + '%' : '—'
  }
  function fmtBytes(b) {
    if (!isNum(b)) return '—'
    if (b >= 1 << 30) return (b / (1 << 30)).toFixed(2) + ' GiB'
    return (b / (1 << 20)).toFixed(1) + ' MiB'
  }
  function fmtDuration(s) {
    if (!isNum(s)) return '—'
    s = Math.floor(s)
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60), r = s % 60
    function two(n) { return (n < 10 ? '0' : '') + n }
    if (d > 0) return d + 'd ' + two(h) + 'h ' + two(m) + 'm'
    if (h > 0) return h + 'h ' + two(m) + 'm ' + two(r) + 's'
    return m + 'm ' + two(r) + 's'
  }
  function fmtTime(unixSeconds) {
    if (!isNum(unixSeconds)) return '—'
    return new Date(unixSeconds * 1000).toLocaleTimeString('en-GB', { hour12: false })
  }
  // Puts a value in an element: the text for people, data-value for tests.
  function show(testid, value, text) {
    var e = typeof testid === 'string' ? byTestId(testid) : testid
    if (!e) return
    e.setAttribute('data-value', value == null ? '' : String(value))
    e.textContent = text != null ? text : fmt(value)
  }
  // `time` of a tick may come as unix seconds, ms or an ISO string: unix seconds out.
  function toSeconds(t) {
    if (typeof t === 'number' && isFinite(t)) return t > 1e11 ? t / 1000 : t
    if (typeof t === 'string') {
      var n = Date.parse(t)
      if (isFinite(n)) return n / 1000
    }
    return Date.now() / 1000
  }
  function tagsParam(tags) {
    if (!tags) return ''
    var keys = Object.keys(tags).sort()
    return keys.map(function (k) { return k + ':' + tags[k] }).join(',')
  }
  function seriesQuery(s) {
    var q = 'name=' + encodeURIComponent(s.name)
    var t = tagsParam(s.tags)
    if (t) q += '&tags=' + encodeURIComponent(t)
    return q
  }
  function keyOf(s) {
    if (s.key) return s.key
    var t = tagsParam(s.tags)
    return t ? s.name + '|' + t : s.name
  }
  function debounce(fn, ms) {
    var timer = null
    return function () {
      clearTimeout(timer)
      timer = setTimeout(fn, ms)
    }
  }

  // GET JSON: { ok, status, data }; never throws (network errors give status 0), so a
  // restarting server or a 404/409 shows as "no data yet", not as an exception.
  function getJSON(path) {
    var headers = { Accept: 'application/json' }
    if (TOKEN) headers.Authorization = 'Bearer ' + TOKEN
    return fetch(path, { headers: headers, cache: 'no-store' })
      .then(function (res) {
        return res.text().then(function (body) {
          var data = null
          try { data = body ? JSON.parse(body) : null } catch (e) { data = null }
          return { ok: res.ok, status: res.status, data: data }
        })
      })
      .catch(function () {
        return { ok: false, status: 0, data: null }
      })
  }
  function errorText(r, what) {
    if (r.status === 0) return 'server unreachable'
    if (r.status === 401) return 'unauthorized: open the page as /?access_token=TOKEN'
    if (r.status === 404) return 'no data yet' + (what ? ' (' + what + ')' : '')
    if (r.status === 409) return 'no data yet' + (r.data && r.data.error ? ' (' + r.data.error + ')' : '')
    return 'error ' + r.status + (r.data && r.data.error ? ': ' + r.data.error : '')
  }

  // ---------- charts (uPlot) ----------

  var COLORS = {
    rate: '#2563eb',
    loss: '#dc2626',
    p50: '#0f766e',
    p90: '#d97706',
    p99: '#b91c1c',
    uniques: '#7c3aed',
    value: '#0369a1',
    point: '#1e3a8a',
    center: '#16a34a',
    limit: '#dc2626',
    violation: '#e11d48',
  }
  var charts = {}

  function axisDefaults() {
    var grid = { stroke: '#e5e7eb', width: 1 }
    return [
      { stroke: '#4b5563', grid: grid, ticks: { stroke: '#d1d5db' } },
      { stroke: '#4b5563', grid: grid, ticks: { stroke: '#d1d5db' }, size: 56, values: function (u, vals) { return vals.map(function (v) { return v == null ? '' : fmt(v) }) } },
    ]
  }

  function Chart(name, containerId, seriesOpts, extra) {
    this.name = name
    this.container = document.getElementById(containerId)
    this.height = Number(this.container.getAttribute('data-height')) || 180
    this.seriesOpts = seriesOpts
    this.extra = extra || {}
    this.plot = null
    this.data = null
    charts[name] = this
  }
  Chart.prototype.width = function () {
    return Math.max(200, this.container.clientWidth || 0)
  }
  Chart.prototype.make = function () {
    if (typeof uPlot !== 'function') {
      this.container.textContent = 'charts unavailable: /assets/uplot/ is not served'
      return
    }
    var opts = {
      width: this.width(),
      height: this.height,
      legend: { live: true },
      cursor: { points: { size: 6 } },
      scales: { x: { time: true } },
      axes: axisDefaults(),
      series: [{ label: 'time', value: function (u, v) { return v == null ? '—' : fmtTime(v) } }].concat(this.seriesOpts),
    }
    for (var k in this.extra) opts[k] = this.extra[k]
    this.plot = new uPlot(opts, this.data, this.container)
  }
  // data: [x[], y1[], ...] (nulls are gaps). Also kept in window.__hotstats for tests.
  Chart.prototype.set = function (data, meta) {
    this.data = data
    var entry = { series: data.map(function (a) { return Array.prototype.slice.call(a) }), updated: Date.now() }
    if (meta) for (var k in meta) entry[k] = meta[k]
    hs.charts[this.name] = entry
    if (this.container.offsetParent === null) return // hidden: draw when shown
    if (!this.plot) this.make()
    else this.plot.setData(data)
  }
  Chart.prototype.resize = function () {
    if (!this.plot || this.container.offsetParent === null) return
    var w = this.width()
    if (Math.abs(w - this.plot.width) > 1) this.plot.setSize({ width: w, height: this.height })
  }
  // A chart whose box was hidden when its data came: draw it now (or fit it to its box).
  Chart.prototype.redrawIfShown = function () {
    if (this.container.offsetParent === null || !this.data) return
    if (!this.plot) this.make()
    else this.resize()
  }

  function lineSeries(label, color, extra) {
    var s = { label: label, stroke: color, width: 2, spanGaps: false, value: function (u, v) { return fmt(v) }, points: { show: false } }
    if (extra) for (var k in extra) s[k] = extra[k]
    return s
  }

  var ingestChart = new Chart(
    'ingest',
    'chart-ingest',
    [lineSeries('events/s', COLORS.rate, { fill: 'rgba(37,99,235,0.08)' }), lineSeries('losses/s', COLORS.loss)],
    // the last minute, growing to the last 5 as ticks come in; scrolling
    { scales: { x: { time: true, range: function (u, min, max) { return [max - Math.max(60, Math.min(INGEST_POINTS, max - min)), max] } } } },
  )
  var rateChart = new Chart('seriesRate', 'chart-series-rate', [lineSeries('events/s', COLORS.rate, { fill: 'rgba(37,99,235,0.08)', points: { show: true, size: 4 } })])
  var quantileChart = new Chart(
    'quantiles',
    'chart-quantiles',
    [
      lineSeries('p50', COLORS.p50, { points: { show: true, size: 4 } }),
      lineSeries('p90', COLORS.p90, { dash: [6, 4] }),
      lineSeries('p99', COLORS.p99, { points: { show: true, size: 4 } }),
    ],
    { bands: [{ series: [3, 1], fill: 'rgba(217,119,6,0.12)' }] },
  )
  var uniquesChart = new Chart('uniques', 'chart-uniques', [lineSeries('uniques', COLORS.uniques, { points: { show: true, size: 4 } })])
  var valueChart = new Chart('value', 'chart-value', [lineSeries('value', COLORS.value, { points: { show: true, size: 4 } })])
  var spcChart = new Chart('spc', 'chart-spc', [
    lineSeries('bucket mean', COLORS.point, { width: 1.5, points: { show: true, space: 0, size: 5, fill: COLORS.point } }),
    lineSeries('center', COLORS.center, { width: 1.5 }),
    lineSeries('UCL', COLORS.limit, { width: 1.5, dash: [6, 4] }),
    lineSeries('LCL', COLORS.limit, { width: 1.5, dash: [6, 4] }),
    {
      label: 'violation',
      stroke: COLORS.violation,
      width: 0,
      paths: function () { return null },
      points: { show: true, space: 0, size: 11, width: 2, stroke: COLORS.violation, fill: 'rgba(225,29,72,0.35)' },
      value: function (u, v) { return fmt(v) },
    },
  ])

  if (typeof ResizeObserver === 'function') {
    var ro = new ResizeObserver(function () { Object.keys(charts).forEach(function (k) { charts[k].resize() }) })
    ro.observe(document.querySelector('main'))
  } else {
    window.addEventListener('resize', function () { Object.keys(charts).forEach(function (k) { charts[k].resize() }) })
  }

  // ---------- live stream (SSE) ----------

  var ingest = { t: [], eps: [], lossPerSec: [] }
  var lastTickAt = 0
  var lastLossTotal = null
  var lastEvents = null
  var lastTickTime = null
  var lastServerIdentity = null
  var liveRenderPending = false
  var es = null
  var reconnectTimer = null
  var backoff = 1000

  function setConn(state) {
    if (hs.connection === state) return
    hs.connection = state
    // Out of touch: the server may come back as a new one, so check that the chosen series
    // still exists before asking for it again.
    if (state !== 'live' && hs.selected) hs.selected.verify = true
    var c = $('#conn')
    c.setAttribute('data-state', state)
    c.className = 'conn ' + state
    c.textContent = state === 'live' ? 'live' : state === 'reconnecting' ? 'reconnecting…' : 'connecting…'
  }

  function connect() {
    clearTimeout(reconnectTimer)
    reconnectTimer = null
    if (es) es.close()
    es = new EventSource(API + '/live' + (TOKEN ? '?access_token=' + encodeURIComponent(TOKEN) : ''))
    es.onmessage = function (ev) {
      var tick
      try { tick = JSON.parse(ev.data) } catch (e) { return }
      backoff = 1000
      lastTickAt = Date.now()
      setConn('live')
      onTick(tick)
    }
    es.onerror = function () {
      // The browser retries by itself while readyState is CONNECTING; when it gives up
      // (CLOSED) we open a new stream, with a backoff of up to 5 s.
      if (Date.now() - lastTickAt > STALE_MS) setConn(lastTickAt ? 'reconnecting' : 'connecting')
      if (es && es.readyState === EventSource.CLOSED) scheduleReconnect()
    }
  }
  function scheduleReconnect() {
    if (reconnectTimer) return
    if (es) { es.close(); es = null }
    reconnectTimer = setTimeout(connect, backoff)
    backoff = Math.min(5000, backoff * 2)
  }
  // A stream can hang without an error (a proxy, a half-open socket): restart it.
  setInterval(function () {
    var quiet = Date.now() - lastTickAt
    if (quiet > STALE_MS && hs.connection === 'live') setConn('reconnecting')
    if (lastTickAt && quiet > WATCHDOG_MS && es && es.readyState !== EventSource.CONNECTING) scheduleReconnect()
    else if (lastTickAt && quiet > 3 * WATCHDOG_MS) scheduleReconnect()
  }, 1000)

  function lossTotal(losses) {
    var total = 0
    for (var k in losses || {}) {
      var v = losses[k]
      if (isNum(v)) total += v
      else if (v && typeof v === 'object') for (var r in v) if (isNum(v[r])) total += v[r]
    }
    return total
  }

  function onTick(tick) {
    var server = tick.server || {}
    var t = toSeconds(tick.time)
    // A restarted server: another startedAt (or node id). Break the line, restart the loss
    // deltas and reload what depends on the server's state.
    var identity = String(server.startedAt) + '/' + String(server.nodeId)
    var restarted = lastServerIdentity != null && identity !== lastServerIdentity
    // On every (re)connect the server replays its last 5 minutes of ticks: the ones already
    // drawn come again, and are skipped (the ones missed while away fill the gap).
    if (!restarted && lastTickTime != null && t <= lastTickTime) return
    lastServerIdentity = identity
    hs.live = tick
    if (restarted) forgetServerState()
    noteServer(server)
    if (restarted) {
      hs.restarts++
      lastLossTotal = null
      lastEvents = null
      pushIngest(t - 0.001, null, null)
      refreshSeriesList()
      pollNow()
    }
    var ing = server.ingest || {}
    var total = lossTotal(server.losses)
    var dt = lastTickTime == null ? 0 : t - lastTickTime
    var lossRate = lastLossTotal == null || dt <= 0 ? 0 : Math.max(0, total - lastLossTotal) / dt
    lastLossTotal = total
    // events/s: the server's figure when it sends one, else the change of the events total.
    var eps = isNum(ing.eventsPerSecond) ? ing.eventsPerSecond : lastEvents == null || dt <= 0 || !isNum(ing.events) ? null : Math.max(0, ing.events - lastEvents) / dt
    lastEvents = isNum(ing.events) ? ing.events : null
    lastTickTime = t
    hs.eventsPerSecond = eps
    pushIngest(t, eps, lossRate)
    // A replay brings up to 300 ticks at once: draw once, after the burst.
    if (!liveRenderPending) {
      liveRenderPending = true
      setTimeout(renderLive, 0)
    }
  }
  function renderLive() {
    liveRenderPending = false
    var tick = hs.live
    if (!tick) return
    var server = tick.server || {}
    var ing = server.ingest || {}
    var total = lossTotal(server.losses)
    ingestChart.set([ingest.t, ingest.eps, ingest.lossPerSec])
    show('ingest-rate', hs.eventsPerSecond)
    show('ingest-events', ing.events)
    renderIngestCounters(ing)
    show('server-series', server.series)
    show('server-rss', server.rssBytes, fmtBytes(server.rssBytes))
    show('server-uptime', server.uptimeSeconds, fmtDuration(server.uptimeSeconds))
    show('server-backend', server.backend, server.backend || '—')
    show('server-version', server.version, server.version || '—')
    show('server-node', server.nodeId, server.nodeId || '—')
    show('loss-total', total)
    byTestId('loss-total').classList.toggle('nonzero', total > 0)
    renderLosses(server.losses || {})
    if (tick.top && Array.isArray(tick.top.rate)) renderTopRate(tick.top.rate)
    if (!$('#panel-cluster').hidden) renderCluster()
  }
  // What the page keeps from the server's description (a tick or /api/v1/server): its windows
  // for the window menu, and with --redis its publishes (when the chosen series reached the
  // cluster view) and whether Redis is reachable.
  function noteServer(server) {
    hs.server = server
    setWindows(server.windows)
    var r = server.redis
    if (r && isNum(r.publishedAt) && r.publishedAt > ownPublishedAt) ownPublishedAt = r.publishedAt
    showScopeToggle()
  }
  // A new server process: what the page knew about the old one's series and publishes is void.
  function forgetServerState() {
    if (hs.selected) hs.selected.verify = true
    clusterSince = {}
    clusterMissing = {}
    clusterError = null
    clusterErrorUntil = 0
    ownPublishedAt = 0
    hs.cluster = null
  }
  // The server's clock now (unix seconds), from the last tick; null before the first one.
  function serverNow() {
    if (!hs.live || !lastTickAt) return null
    return toSeconds(hs.live.time) + (Date.now() - lastTickAt) / 1000
  }
  function pushIngest(t, eps, loss) {
    ingest.t.push(t)
    ingest.eps.push(eps)
    ingest.lossPerSec.push(loss)
    if (ingest.t.length > INGEST_POINTS) {
      ingest.t.shift()
      ingest.eps.shift()
      ingest.lossPerSec.shift()
    }
  }

  // ---------- losses ----------

  var LOSS_HELP = {
    parse_error: 'lines or events refused by the parser',
    udp_receive_buffer: 'UDP datagrams dropped by the kernel (receive buffer full)',
    ring_full: 'events dropped because ingest fell behind',
    series_limit: 'events for new series past the series limit',
    type_collision: 'events whose type differs from the series already known',
    late: 'events older than the oldest window bucket',
    mapping_drop: 'events dropped by a mapping rule',
    body_too_large: 'HTTP bodies refused for size',
  }
  // One row per loss cause; parse errors get a sub-list by reason. Non-zero rows are
  // highlighted. Rows are rebuilt only when the set of causes changes.
  function renderLosses(losses) {
    var box = $('#losses')
    var names = Object.keys(losses).sort()
    var shape = names.map(function (n) { var v = losses[n]; return v && typeof v === 'object' ? n + '(' + Object.keys(v).sort().join(',') + ')' : n }).join(';')
    if (box.getAttribute('data-shape') !== shape) {
      box.setAttribute('data-shape', shape)
      var rows = []
      names.forEach(function (name) {
        var v = losses[name]
        rows.push(lossRow(name, name, false))
        if (v && typeof v === 'object') {
          rows.push(el('div', { class: 'loss-sub' }, Object.keys(v).sort().map(function (r) { return lossRow(name + '-' + r, r, true) })))
        }
      })
      box.replaceChildren.apply(box, rows.length ? rows : [el('p', { class: 'muted', text: 'no data yet' })])
    }
    names.forEach(function (name) {
      var v = losses[name]
      if (v && typeof v === 'object') {
        var sum = 0
        for (var r in v) {
          if (isNum(v[r])) sum += v[r]
          setLoss(name + '-' + r, v[r])
        }
        setLoss(name, sum)
      } else setLoss(name, v)
    })
  }
  function lossRow(id, label, sub) {
    return el('div', { class: 'loss-row' + (sub ? ' sub' : ''), 'data-testid': 'loss-row', 'data-loss': id, title: LOSS_HELP[label] || '' }, [
      el('span', { class: 'loss-name', text: label.replace(/_/g, ' ') }),
      el('span', { class: 'num', 'data-testid': 'loss-' + id, 'data-value': '', text: '—' }),
    ])
  }
  function setLoss(id, value) {
    var row = document.querySelector('#losses [data-loss="' + id + '"]')
    if (!row) return
    show(row.querySelector('.num'), value)
    row.classList.toggle('nonzero', isNum(value) && value > 0)
  }

  // The ingest counters the server reports (events, aggregated, packets, bytes, ...), by name.
  var INGEST_LABELS = { events: 'events', aggregated: 'aggregated', inFlight: 'in flight', udpPackets: 'UDP packets', udpBytes: 'UDP bytes', tcpConnections: 'TCP connections', tcpBytes: 'TCP bytes', httpRequests: 'HTTP requests', lines: 'lines', packets: 'packets', bytes: 'bytes' }
  function renderIngestCounters(ing) {
    var box = $('#ingest-counters')
    var keys = Object.keys(ing).filter(function (k) { return k !== 'eventsPerSecond' && isNum(ing[k]) })
    if (box.getAttribute('data-shape') !== keys.join(',')) {
      box.setAttribute('data-shape', keys.join(','))
      box.replaceChildren.apply(
        box,
        keys.map(function (k) {
          return el('div', null, [el('dt', { text: INGEST_LABELS[k] || k }), el('dd', { 'data-testid': 'ingest-counter-' + k, 'data-value': '', text: '—' })])
        }),
      )
    }
    keys.forEach(function (k) {
      var e = byTestId('ingest-counter-' + k)
      if (/bytes$/i.test(k)) show(e, ing[k], ing[k] >= 1 << 20 ? fmtBytes(ing[k]) : fmt(ing[k]) + ' B')
      else show(e, ing[k])
    })
  }
  function refreshServer() {
    return getJSON(API + '/server').then(function (r) {
      if (!r.ok || !r.data) return
      // Before the first tick (and only then: ticks are newer), /server describes the server.
      if (!hs.live) noteServer(r.data)
      var lines = Array.isArray(r.data.badLines) ? r.data.badLines : []
      show('bad-lines-count', lines.length, String(lines.length))
      var ul = $('#bad-lines')
      ul.replaceChildren.apply(
        ul,
        lines.slice(-20).reverse().map(function (b) {
          return el('li', { 'data-testid': 'bad-line' }, [
            el('span', { class: 'reason', text: b.reason || '?' }),
            el('code', { text: String(b.line == null ? '' : b.line).slice(0, 200) }),
          ])
        }),
      )
    })
  }

  // ---------- series picker ----------

  var search = $('#series-search')
  var seriesListSeq = 0
  function refreshSeriesList() {
    var seq = ++seriesListSeq
    var match = search.value.trim()
    var url = API + '/series?limit=200' + (match ? '&match=' + encodeURIComponent(match) : '')
    return getJSON(url).then(function (r) {
      if (seq !== seriesListSeq) return // a newer search answered first
      var ul = $('#series-list')
      if (!r.ok || !r.data || !Array.isArray(r.data.series)) {
        ul.replaceChildren(el('li', { class: 'muted', text: errorText(r) }))
        return
      }
      var total = isNum(r.data.total) ? r.data.total : r.data.series.length
      var hint = byTestId('series-total')
      hint.setAttribute('data-value', String(total))
      hint.textContent = total === r.data.series.length ? total + ' series' : r.data.series.length + ' of ' + total
      if (!r.data.series.length) {
        ul.replaceChildren(el('li', { class: 'muted', text: match ? 'no series match "' + match + '"' : 'no data yet' }))
        return
      }
      var selKey = hs.selected && hs.selected.key
      ul.replaceChildren.apply(
        ul,
        r.data.series.map(function (s) {
          var key = keyOf(s)
          return el('li', { role: 'option', 'aria-selected': String(key === selKey) }, [
            el(
              'button',
              {
                type: 'button',
                class: 'series-item' + (key === selKey ? ' selected' : ''),
                'data-testid': 'series-item',
                'data-key': key,
                title: key,
                onclick: function () { select(s) },
              },
              [el('span', { class: 'badge type-' + s.type, text: s.type }), el('span', { class: 'mono', text: key })],
            ),
          ])
        }),
      )
    })
  }
  search.addEventListener('input', debounce(refreshSeriesList, 250))
  search.addEventListener('keydown', function (e) {
    if (e.key !== 'Enter') return
    var first = $('#series-list .series-item')
    if (first) first.click()
  })

  function select(s) {
    var sel = { key: keyOf(s), name: s.name, tags: s.tags || {}, type: s.type, prometheus: s.prometheus || null, verify: false }
    hs.selected = sel
    hs.spc = null
    document.querySelectorAll('#series-list .series-item').forEach(function (b) {
      var on = b.getAttribute('data-key') === sel.key
      b.classList.toggle('selected', on)
      b.parentNode.setAttribute('aria-selected', String(on))
    })
    var keyEl = $('#selected-key')
    keyEl.textContent = sel.key
    keyEl.setAttribute('data-value', sel.key)
    $('#selected-type').textContent = sel.type || ''
    $('#selected-empty').hidden = true
    $('#selected-body').hidden = false
    updateHash()
    clearStats()
    layoutForType(sel.type)
    ;[rateChart, quantileChart, uniquesChart, valueChart, spcChart].forEach(function (c) { c.data = null; delete hs.charts[c.name] })
    refreshSelectedNow()
  }
  // On a user's choice (series, scope): when the cluster's numbers are wanted for a series not
  // yet known to be in the cluster's state, ask /cluster first (its answer stamps the series).
  function refreshSelectedNow() {
    var sel = hs.selected
    if (sel && effectiveScope() === 'cluster' && clusterSince[sel.key] == null) return refreshCluster().then(refreshSelected)
    return refreshSelected()
  }
  function updateHash() {
    var sel = hs.selected
    if (!sel) return
    try { history.replaceState(null, '', '#' + seriesQuery(sel) + (hs.scope === 'cluster' ? '&scope=cluster' : '')) } catch (e) { /* file:// or sandboxed */ }
  }
  // Blank numbers (a new series, scope or window): never the old ones under a new label.
  function clearStats() {
    $('#stats').setAttribute('data-scope', '')
    document.querySelectorAll('#stats dd').forEach(function (dd) { dd.removeAttribute('data-loaded'); dd.setAttribute('data-value', ''); dd.textContent = '—' })
  }
  hs.select = function (key) {
    // for tests and the console: choose a series by key from the current list
    var b = document.querySelector('#series-list .series-item[data-key="' + (window.CSS && CSS.escape ? CSS.escape(key) : key) + '"]')
    if (b) b.click()
    return !!b
  }

  var DISTRIBUTION = { ms: 1, h: 1, d: 1 }
  function statShown(k, type) {
    if (k === 'p50' || k === 'p90' || k === 'p99' || k === 'p999') return !!DISTRIBUTION[type]
    if (k === 'uniques') return type === 's'
    if (k === 'value') return type === 'g'
    if (k === 'sum' || k === 'mean' || k === 'min' || k === 'max') return type !== 's'
    return true
  }
  // Shows the charts and numbers that mean something for the type; hides numbers the server
  // left null (a gauge's sum, a window with no events), except the count.
  function layoutForType(type) {
    $('#box-quantiles').hidden = !DISTRIBUTION[type]
    $('#box-uniques').hidden = type !== 's'
    $('#box-value').hidden = type !== 'g'
    document.querySelectorAll('#stats > div').forEach(function (d) {
      var k = d.getAttribute('data-stat')
      var dd = d.querySelector('dd')
      var known = dd.getAttribute('data-value') !== ''
      d.hidden = !statShown(k, type) || (k !== 'count' && !known && dd.getAttribute('data-loaded') === '1')
    })
    ;[rateChart, quantileChart, uniquesChart, valueChart].forEach(function (c) { c.redrawIfShown() })
  }

  // ---------- the chosen series: stats, history, control chart ----------

  // After a server restart or a 404 the chosen series may be gone: look for it in the list
  // before asking for it again (so a missing series costs no failing request per poll).
  function seriesExists(sel) {
    if (!sel.verify) return Promise.resolve(true)
    return getJSON(API + '/series?limit=1000&match=' + encodeURIComponent(sel.name)).then(function (r) {
      if (!r.ok || !r.data) return false
      var list = r.data.series || []
      var found = list.some(function (s) { return keyOf(s) === sel.key }) || (isNum(r.data.total) && r.data.total > list.length)
      if (found) sel.verify = false
      return found
    })
  }
  function refreshSelected() {
    var sel = hs.selected
    if (!sel) return Promise.resolve()
    return seriesExists(sel).then(function (exists) {
      if (hs.selected !== sel) return
      if (exists) return fetchSelected(sel)
      renderStats({ ok: false, status: 404, data: null })
      renderHistory({ ok: false, status: 404, data: null })
      renderSpcEmpty('no data yet')
    })
  }
  var statsSeq = 0
  function fetchSelected(sel) {
    var win = $('#stats-window').value
    var seconds = HISTORY_SECONDS
    var q = seriesQuery(sel)
    var seq = ++statsSeq
    var scope = effectiveScope()
    var stats
    if (scope === 'cluster') stats = fetchClusterStats(sel, q, win, seq)
    else
      stats = getJSON(API + '/stats?' + q + (win ? '&window=' + win : '')).then(function (r) {
        if (hs.selected !== sel || seq !== statsSeq) return // another series, scope or window since
        if (r.status === 404) sel.verify = true
        renderStats(r, 'node')
      })
    var hist = getJSON(API + '/history?' + q + '&seconds=' + seconds).then(function (r) {
      if (hs.selected !== sel) return
      var buckets = renderHistory(r)
      if (sel.type === 's') return renderSpcEmpty('control charts are for counters, gauges and distributions (a set has no values to chart)')
      // The control chart needs 3 buckets with data (409 otherwise): ask only when it can answer.
      if (buckets >= 3) return refreshSpc(sel, seconds)
      renderSpcEmpty(r.ok ? 'no data yet (the control chart needs 3 buckets with data; ' + buckets + ' so far)' : errorText(r))
    })
    return Promise.all([stats, hist])
  }

  // The chosen series merged over every node (scope=cluster). Asked only once this node has
  // published since it knew the series (so the cluster's state has it: no 404 to show in the
  // console) and while Redis is reachable (the server could not answer otherwise).
  function fetchClusterStats(sel, q, win, seq) {
    var redis = hs.server && hs.server.redis
    if (redis && redis.connected === false) return Promise.resolve(renderStatsWaiting('cluster view unavailable: Redis is unreachable'))
    if (clusterError) return Promise.resolve(renderStatsWaiting('cluster view unavailable: ' + clusterError))
    var wait = clusterWait(sel)
    if (wait) return Promise.resolve(renderStatsWaiting(wait))
    return getJSON(API + '/stats?' + q + (win ? '&window=' + win : '') + '&scope=cluster').then(function (r) {
      if (hs.selected !== sel || seq !== statsSeq) return
      if (r.status === 404) {
        // No node has it (it expired here, or Redis lost its data): look again after this
        // node's next publish, and not before a while (each 404 is a red line in the console).
        delete clusterSince[sel.key]
        var delay = Math.min(60000, 2 * ((clusterMissing[sel.key] && clusterMissing[sel.key].delay) || 2500))
        clusterMissing[sel.key] = { delay: delay, until: Date.now() + delay }
      } else if (r.ok) delete clusterMissing[sel.key]
      renderStats(r, 'cluster')
    })
  }
  function renderStatsWaiting(text) {
    clearStats()
    $('#stats-status').textContent = text
  }

  function renderStats(r, scope) {
    var status = $('#stats-status')
    var d = r.data
    if (!r.ok || !d) {
      $('#stats').setAttribute('data-scope', '')
      status.textContent = scope === 'cluster' && r.status === 404 ? clusterWait(hs.selected) || 'cluster view: no node has published this series yet' : errorText(r, 'the server does not know this series (yet)')
      ;['count', 'rate', 'sum', 'mean', 'min', 'max', 'p50', 'p90', 'p99', 'p999', 'value', 'uniques'].forEach(function (k) { show('stat-' + k, null) })
      return
    }
    $('#stats').setAttribute('data-scope', scope || 'node')
    var q = d.quantiles || {}
    show('stat-count', d.count)
    show('stat-rate', d.rate)
    show('stat-sum', d.sum)
    show('stat-mean', d.mean)
    show('stat-min', d.min)
    show('stat-max', d.max)
    show('stat-p50', q['0.5'])
    show('stat-p90', q['0.9'])
    show('stat-p99', q['0.99'])
    show('stat-p999', q['0.999'])
    show('stat-value', d.value)
    show('stat-uniques', d.uniques)
    document.querySelectorAll('#stats dd').forEach(function (dd) { dd.setAttribute('data-loaded', '1') })
    // (the cluster's answer has no Prometheus name: the one from the series list, then)
    if (d.prometheus && hs.selected) hs.selected.prometheus = d.prometheus
    var prom = $('#stat-prometheus')
    prom.textContent = d.prometheus || (hs.selected && hs.selected.prometheus) || '—'
    if (d.type && hs.selected && d.type !== hs.selected.type) {
      hs.selected.type = d.type
      $('#selected-type').textContent = d.type
    }
    layoutForType(hs.selected ? hs.selected.type : d.type)
    var whose = scope === 'cluster' ? 'cluster: ' + (isNum(d.nodes) ? d.nodes + (d.nodes === 1 ? ' node' : ' nodes') : 'every node') + ' · ' : clusterMode() ? 'this node · ' : ''
    var since = scope === 'cluster' ? 'since each node started' : 'since the server started'
    status.textContent = whose + (d.window ? 'last ' + d.window + ' s' : since) + ' · updated ' + fmtTime(Date.now() / 1000)
  }

  function renderHistory(r) {
    var status = $('#history-status')
    var d = r.data
    if (!r.ok || !d || !Array.isArray(d.t)) {
      status.textContent = 'history: ' + errorText(r)
      if (r.status !== 0) [rateChart, quantileChart, uniquesChart, valueChart].forEach(function (c) { c.set(c === quantileChart ? [[], [], [], []] : [[], []]) })
      return 0
    }
    var t = d.t
    function col(name) {
      var a = d[name]
      return Array.isArray(a) && a.length === t.length ? a : t.map(function () { return null })
    }
    var withData = 0
    var counts = col('count')
    counts.forEach(function (c) { if (isNum(c) && c > 0) withData++ })
    var meta = { step: d.step, count: counts.slice() }
    // The newest bucket is still filling: its rate is over the seconds it has covered so far
    // (the server divides by the whole step), so the line does not dip at its end.
    var rate = col('rate').slice()
    var last = t.length - 1
    var now = serverNow()
    if (last >= 0 && isNum(d.step) && isNum(counts[last]) && isNum(rate[last]) && now != null && now < t[last] + d.step) {
      var covered = Math.max(1, now - t[last])
      rate[last] = (rate[last] * d.step) / covered
      meta.partialLast = covered
    }
    rateChart.set([t, rate], meta)
    quantileChart.set([t, col('p50'), col('p90'), col('p99')], meta)
    uniquesChart.set([t, col('uniques')], meta)
    valueChart.set([t, col('value')], meta)
    status.textContent = t.length + ' buckets of ' + (d.step || '?') + ' s, ' + withData + ' with data' + (effectiveScope() === 'cluster' ? ' · charts: this node' : '')
    return withData
  }

  function refreshSpc(sel, seconds) {
    var rules = $('#spc-rules').value
    return getJSON(API + '/spc?' + seriesQuery(sel) + '&seconds=' + seconds + '&rules=' + encodeURIComponent(rules)).then(function (r) {
      if (hs.selected !== sel) return
      if (!r.ok || !r.data || !Array.isArray(r.data.points)) {
        renderSpcEmpty(errorText(r))
        return
      }
      renderSpc(r.data, rules)
    })
  }
  function renderSpcEmpty(text) {
    hs.spc = null
    $('#spc-empty').textContent = text
    $('#spc-empty').hidden = false
    $('#spc-body').hidden = true
  }

  var RULES = {
    'western-electric': { 1: 'a point beyond 3σ', 2: '2 of 3 beyond 2σ, same side', 3: '4 of 5 beyond 1σ, same side', 4: '8 in a row on one side' },
    nelson: {
      1: 'a point beyond 3σ',
      2: '9 in a row on one side',
      3: '6 in a row increasing or decreasing',
      4: '14 in a row alternating',
      5: '2 of 3 beyond 2σ',
      6: '4 of 5 beyond 1σ',
      7: '15 in a row within 1σ',
      8: '8 in a row beyond 1σ',
    },
    limits: { 1: 'a point beyond 3σ' },
  }

  function renderSpc(d, rules) {
    hs.spc = d
    $('#spc-empty').hidden = true
    $('#spc-body').hidden = false
    var pts = d.points
    var t = Array.isArray(d.t) && d.t.length === pts.length ? d.t : pts.map(function (_, i) { return i })
    var n = pts.length
    function flat(v) { var a = new Array(n); for (var i = 0; i < n; i++) a[i] = isNum(v) ? v : null; return a }
    var viol = flat(null)
    var violations = Array.isArray(d.violations) ? d.violations : []
    violations.forEach(function (v) { if (v.index >= 0 && v.index < n) viol[v.index] = pts[v.index] })
    spcChart.set([t, pts, flat(d.center), flat(d.ucl), flat(d.lcl), viol], { violations: violations.slice(), center: d.center, ucl: d.ucl, lcl: d.lcl })
    show('spc-center', d.center)
    show('spc-ucl', d.ucl)
    show('spc-lcl', d.lcl)
    show('spc-sigma', d.sigma)
    show('spc-points', pts.filter(isNum).length)
    show('spc-violation-count', violations.length)
    byTestId('spc-violation-count').classList.toggle('nonzero', violations.length > 0)
    var names = RULES[rules] || RULES['western-electric']
    var ul = $('#spc-violations')
    var items = violations
      .slice()
      .reverse()
      .slice(0, 50)
      .map(function (v) {
        return el('li', { 'data-testid': 'spc-violation', 'data-index': String(v.index), 'data-rule': String(v.rule) }, [
          el('span', { class: 'when', text: d.t ? fmtTime(t[v.index]) : '#' + v.index }),
          el('span', { class: 'val', text: fmt(pts[v.index]) }),
          el('span', { class: 'rule', text: 'rule ' + v.rule + (names[v.rule] ? ': ' + names[v.rule] : '') }),
        ])
      })
    ul.replaceChildren.apply(ul, items.length ? items : [el('li', { class: 'muted', text: 'none: the process is in control' })])
  }

  $('#stats-window').addEventListener('change', function () {
    windowChosen = true
    clearStats()
    refreshSelected()
  })

  // ---------- the window menu: the server's windows (--windows) ----------

  var windowsKey = null
  var windowChosen = false
  function fmtWindow(w) {
    if (w >= 3600 && w % 3600 === 0) return w / 3600 + ' h'
    if (w >= 120 && w % 60 === 0) return w / 60 + ' min'
    return w + ' s'
  }
  // Rebuilt when the server's windows change (a restart with other --windows); keeps the chosen
  // window when the server still has it, else the shortest.
  function setWindows(list) {
    if (!Array.isArray(list)) return
    var ws = list.filter(function (w) { return isNum(w) && w > 0 }).sort(function (a, b) { return a - b })
    var key = ws.join(',')
    if (key === windowsKey) return
    windowsKey = key
    var menu = $('#stats-window')
    var cur = menu.value
    var opts = ws.map(function (w) { return el('option', { value: String(w), text: fmtWindow(w) }) })
    opts.push(el('option', { value: '', text: 'since start' }))
    menu.replaceChildren.apply(menu, opts)
    var keep = windowChosen && (cur === '' || ws.indexOf(Number(cur)) >= 0)
    menu.value = keep ? cur : ws.length ? String(ws[0]) : ''
    if (menu.value !== cur && hs.selected) {
      clearStats()
      refreshSelected()
    }
  }

  // ---------- cluster (--redis): the nodes, and the scope of the chosen series' numbers ----------

  // Series key -> the server's time (ms) at which this node was known to hold it: once this
  // node has published after that, the cluster's state has the series.
  var clusterSince = {}
  var clusterMissing = {} // series key -> { delay, until }: the cluster had no such series (404)
  var ownPublishedAt = 0 // this node's last publish (server ms), from /cluster and the ticks
  var clusterSeq = 0
  var clusterError = null // the last /cluster answer's error (Redis just went away, say)
  var clusterErrorUntil = 0 // and no new question before then

  function clusterMode() {
    return !!((hs.server && hs.server.redis) || hs.cluster)
  }
  function effectiveScope() {
    return hs.scope === 'cluster' && clusterMode() ? 'cluster' : 'node'
  }
  function staleAfterMs() {
    var r = hs.server && hs.server.redis
    if (r && isNum(r.publishIntervalMs) && r.publishIntervalMs > 0) return 3 * r.publishIntervalMs
    if (r && isNum(r.publishInterval) && r.publishInterval > 0) return 3000 * r.publishInterval
    return CLUSTER_STALE_MS
  }
  // Why the cluster's numbers of this series cannot be asked for yet (null: they can).
  function clusterWait(sel) {
    if (!sel) return null
    var missing = clusterMissing[sel.key]
    if (missing && Date.now() < missing.until) return 'cluster view: no node has published this series (looking again in ' + Math.ceil((missing.until - Date.now()) / 1000) + ' s)'
    var since = clusterSince[sel.key]
    // A publish's state is taken when it starts; publishedAt is read once it is encoded.
    var r = hs.server && hs.server.redis
    var slack = Math.max(1000, 2 * (r && isNum(r.lastPublishMs) ? r.lastPublishMs : 0))
    if (since == null || sel.verify || !(ownPublishedAt > since + slack)) return 'cluster view: waiting for this node to publish the series…'
    return null
  }

  function refreshCluster() {
    var s = hs.server
    // Without --redis there is no cluster; with Redis unreachable the server could not answer.
    if (s && !s.redis) {
      hs.cluster = null
      renderCluster()
      return Promise.resolve()
    }
    if ((s && s.redis.connected === false) || Date.now() < clusterErrorUntil) {
      renderCluster()
      return Promise.resolve()
    }
    var sel = hs.selected
    var stamp = sel && !sel.verify && clusterSince[sel.key] == null ? sel : null
    var seq = ++clusterSeq
    return getJSON(API + '/cluster').then(function (r) {
      if (seq !== clusterSeq) return
      if (!r.ok || !r.data) {
        clusterError = r.status === 0 ? 'server unreachable' : errorText(r)
        // An error answer is a red line in the console: ask again in 10 s, not every 2 s.
        if (r.status !== 0) clusterErrorUntil = Date.now() + 10000
        renderCluster()
        return
      }
      clusterError = null
      clusterErrorUntil = 0
      var d = r.data
      var nodes = (Array.isArray(d.nodes) ? d.nodes : []).slice().sort(function (a, b) { return a.id < b.id ? -1 : a.id > b.id ? 1 : 0 })
      // Every lag is the server's now minus a publish time: so the server's now is known too.
      var now = null
      nodes.forEach(function (n) { if (isNum(n.publishedAt) && isNum(n.lagMs)) now = n.publishedAt + n.lagMs })
      hs.cluster = d.node == null ? null : { node: d.node, publishedAt: d.publishedAt, nodes: nodes, serverNow: now, receivedAt: Date.now() }
      if (isNum(d.publishedAt) && d.publishedAt > ownPublishedAt) ownPublishedAt = d.publishedAt
      // The series was this node's before this answer: stamp it with the server's time.
      if (stamp && hs.selected === stamp && !stamp.verify && isNum(now) && clusterSince[stamp.key] == null) clusterSince[stamp.key] = now
      renderCluster()
    })
  }

  function fmtLag(ms) {
    if (!isNum(ms)) return '—'
    if (ms < 1000) return Math.max(0, Math.round(ms)) + ' ms'
    if (ms < 60000) return (ms / 1000).toFixed(1) + ' s'
    return fmtDuration(ms / 1000)
  }
  function renderCluster() {
    var on = clusterMode()
    var panel = $('#panel-cluster')
    panel.hidden = !on
    $('#grid').classList.toggle('has-cluster', on)
    showScopeToggle()
    if (!on) return
    var c = hs.cluster
    var staleMs = staleAfterMs()
    panel.setAttribute('data-stale-after-ms', String(staleMs))
    var body = $('#cluster-nodes')
    var nodes = c ? c.nodes : []
    // Lags are as of the last answer; when answers stopped coming (Redis unreachable, the
    // server busy), they go on growing here, so a node that cannot publish shows as behind.
    var age = c ? Date.now() - c.receivedAt : 0
    var redis = hs.server && hs.server.redis
    var aged = (redis && redis.connected === false) || clusterError || age > 2 * POLL_MS + 1000 ? age : 0
    if (!nodes.length) {
      body.replaceChildren(el('tr', null, [el('td', { colspan: '5', class: 'muted', text: c ? 'no node has published yet' : clusterError || 'no data yet' })]))
    } else {
      body.replaceChildren.apply(
        body,
        nodes.map(function (n) {
          var self = n.id === c.node
          var lag = isNum(n.lagMs) ? n.lagMs + aged : null
          var stale = lag == null || lag > staleMs
          return el('tr', { 'data-testid': 'cluster-node-row', 'data-node': n.id, 'data-self': String(self), 'data-stale': String(stale), class: (self ? 'self' : '') + (stale ? ' stale' : '') }, [
            el('td', { class: 'node', 'data-testid': 'cluster-node-id', title: n.id }, [n.id, self ? el('span', { class: 'self-badge', text: 'this node' }) : null]),
            el('td', { 'data-testid': 'cluster-node-published', 'data-value': isNum(n.publishedAt) ? String(n.publishedAt) : '', title: isNum(n.publishedAt) ? new Date(n.publishedAt).toISOString() : '', text: isNum(n.publishedAt) ? fmtTime(n.publishedAt / 1000) : '—' }),
            el('td', { class: 'num lag', 'data-testid': 'cluster-node-lag', 'data-value': lag == null ? '' : String(lag), text: fmtLag(lag) }),
            el('td', { class: 'num', 'data-testid': 'cluster-node-series', 'data-value': isNum(n.series) ? String(n.series) : '', text: fmt(n.series) }),
            el('td', { class: 'state', 'data-testid': 'cluster-node-state', text: stale ? 'behind: lag over ' + fmtLag(staleMs) : 'publishing' }),
          ])
        }),
      )
    }
    renderClusterStatus()
  }
  // The panel's line about Redis and this node's publishes (from the ticks, once a second).
  function renderClusterStatus() {
    var panel = $('#panel-cluster')
    if (panel.hidden) return
    var c = hs.cluster
    var r = (hs.server && hs.server.redis) || null
    var down = !!(r && r.connected === false)
    panel.classList.toggle('down', down || !!clusterError)
    var n = c ? c.nodes.length : null
    var parts = []
    if (down) parts.push('Redis unreachable' + (c ? ': nodes as of ' + fmtTime(c.receivedAt / 1000) : ''))
    else if (clusterError) parts.push(clusterError + (c ? ': nodes as of ' + fmtTime(c.receivedAt / 1000) : ''))
    parts.push(n == null ? 'nodes: —' : n + (n === 1 ? ' node' : ' nodes'))
    parts.push('highlighted: lag over ' + fmtLag(staleAfterMs()))
    var hint = $('#cluster-status')
    hint.setAttribute('data-value', n == null ? '' : String(n))
    hint.setAttribute('data-state', down ? 'down' : clusterError ? 'error' : 'connected')
    hint.textContent = parts.join(' · ')
    var pub = $('#cluster-publish')
    pub.textContent = r && isNum(r.publishes) ? 'this node (' + (c ? c.node : (hs.server && hs.server.nodeId) || '?') + '): ' + fmt(r.publishes) + ' publishes' + (isNum(r.lastPublishMs) ? ', last took ' + fmt(r.lastPublishMs) + ' ms' : '') : ''
  }

  function showScopeToggle() {
    var box = $('#scope-toggle')
    box.hidden = !clusterMode()
    var scope = effectiveScope()
    box.setAttribute('data-value', scope)
    box.querySelectorAll('button').forEach(function (b) { b.setAttribute('aria-pressed', String(b.getAttribute('data-scope') === scope)) })
  }
  function setScope(scope) {
    if (scope !== 'node' && scope !== 'cluster') return
    if (scope === hs.scope) return
    hs.scope = scope
    showScopeToggle()
    updateHash()
    var sel = hs.selected
    if (!sel) return
    clearStats()
    refreshSelectedNow()
  }
  $('#scope-toggle').addEventListener('click', function (e) {
    var b = e.target.closest('button[data-scope]')
    if (b) setScope(b.getAttribute('data-scope'))
  })
  $('#spc-rules').addEventListener('change', function () { refreshSelected() })

  // ---------- top-k ----------

  function topRow(testid, s, cells) {
    var key = s.key || null
    var attrs = { 'data-testid': testid, 'data-key': key || s.name }
    if (key) {
      attrs.class = 'clickable'
      attrs.title = 'show ' + key
      attrs.onclick = function () { select(s) }
    }
    return el('tr', attrs, cells)
  }
  function renderTopRate(list) {
    var body = $('#top-rate')
    if (!list.length) {
      body.replaceChildren(el('tr', null, [el('td', { class: 'muted', text: 'no data yet' })]))
      return
    }
    body.replaceChildren.apply(
      body,
      list.slice(0, 10).map(function (s) {
        return topRow('top-rate-row', s, [
          el('td', { class: 'type' }, [el('span', { class: 'badge type-' + s.type, text: s.type || '' })]),
          el('td', { class: 'mono key', text: s.key || s.name }),
          el('td', { class: 'num', 'data-testid': 'top-rate-value', 'data-value': String(s.rate), text: fmt(s.rate) }),
        ])
      }),
    )
  }
  function refreshTop() {
    var jobs = [
      getJSON(API + '/top?by=cardinality&limit=10').then(function (r) {
        var body = $('#top-cardinality')
        if (!r.ok || !r.data) {
          body.replaceChildren(el('tr', null, [el('td', { class: 'muted', text: errorText(r) })]))
          return
        }
        // Sets by distinct members (`series`), then metric names by number of series (`metrics`).
        var sets = Array.isArray(r.data.series) ? r.data.series : []
        var names = Array.isArray(r.data.metrics) ? r.data.metrics : []
        var rows = sets
          .map(function (s) {
            return topRow('top-cardinality-row', s, [
              el('td', { class: 'type' }, [el('span', { class: 'badge type-' + s.type, text: s.type || '' })]),
              el('td', { class: 'mono key', text: s.key || s.name }),
              el('td', { class: 'num', 'data-testid': 'top-cardinality-value', 'data-value': String(s.uniques), text: fmt(s.uniques) }),
            ])
          })
          .concat(
            names.slice(0, 5).map(function (m) {
              return el('tr', { 'data-testid': 'top-names-row', 'data-key': m.name, title: 'Prometheus metric ' + m.name + (m.kind ? ' (' + m.kind + ')' : '') }, [
                el('td', { class: 'type' }, [el('span', { class: 'badge type-name', text: 'name' })]),
                el('td', { class: 'mono key', text: m.name }),
                el('td', { class: 'num', 'data-testid': 'top-names-value', 'data-value': String(m.series), text: fmt(m.series) + ' series' }),
              ])
            }),
          )
        body.replaceChildren.apply(body, rows.length ? rows : [el('tr', null, [el('td', { class: 'muted', text: 'no data yet' })])])
      }),
    ]
    // The live tick carries the top by rate; ask only when the stream does not.
    if (!(hs.live && hs.live.top && Array.isArray(hs.live.top.rate)) || hs.connection !== 'live') {
      jobs.push(
        getJSON(API + '/top?by=rate&limit=10').then(function (r) {
          if (r.ok && r.data && Array.isArray(r.data.series)) renderTopRate(r.data.series)
        }),
      )
    }
    return Promise.all(jobs)
  }

  // ---------- A/B ----------

  var abForm = $('#ab-form')
  function abParams() {
    var f = abForm.elements
    return {
      exposures: f.exposures.value.trim(),
      conversions: f.conversions.value.trim(),
      value: f.value.value.trim(),
      tag: f.tag.value.trim() || 'variant',
      a: f.a.value.trim() || 'A',
      b: f.b.value.trim() || 'B',
    }
  }
  var abSeq = 0
  function refreshAb() {
    var p = abParams()
    var seq = ++abSeq
    function empty(text) {
      if (seq !== abSeq) return
      hs.ab = null
      $('#ab-empty').textContent = text
      $('#ab-empty').hidden = false
      $('#ab-body').hidden = true
    }
    if (!p.exposures || !p.conversions) return Promise.resolve(empty('name the exposures and conversions metrics'))
    var url =
      API + '/ab?exposures=' + encodeURIComponent(p.exposures) + '&conversions=' + encodeURIComponent(p.conversions) +
      (p.value ? '&value=' + encodeURIComponent(p.value) : '') +
      '&tag=' + encodeURIComponent(p.tag) + '&a=' + encodeURIComponent(p.a) + '&b=' + encodeURIComponent(p.b)
    return getJSON(url).then(function (r) {
      if (seq !== abSeq) return
      if (!r.ok || !r.data) return empty(errorText(r))
      renderAb(r.data, p)
    })
  }
  function renderAb(d, p) {
    hs.ab = d
    var variants = Array.isArray(d.variants) ? d.variants : []
    var anyExposure = variants.some(function (v) { return isNum(v.exposures) && v.exposures > 0 })
    // Nothing sent yet: say so (with the server's reasons) instead of a table of dashes.
    $('#ab-empty').textContent = anyExposure ? '' : 'no data yet: no exposures for ' + p.exposures + ' tagged ' + p.tag + ':' + p.a + ' or ' + p.tag + ':' + p.b
    $('#ab-empty').hidden = anyExposure
    $('#ab-body').hidden = !anyExposure
    var bayes = d.bayesian || {}
    ;[['a', p.a, bayes.credibleIntervalA95], ['b', p.b, bayes.credibleIntervalB95]].forEach(function (x) {
      var slot = x[0], name = x[1], ci = x[2]
      var v = variants.filter(function (v) { return v.name === name })[0] || (variants.length === 2 ? variants[slot === 'a' ? 0 : 1] : {})
      byTestId('ab-' + slot + '-name').textContent = v.name || name
      document.querySelectorAll('[data-ab-name="' + slot + '"]').forEach(function (e) { e.textContent = v.name || name })
      show('ab-' + slot + '-exposures', v.exposures)
      show('ab-' + slot + '-conversions', v.conversions)
      show('ab-' + slot + '-rate', v.rate, fmtPct(v.rate))
      show('ab-' + slot + '-value-mean', v.valueMean)
      show('ab-' + slot + '-value-count', v.valueCount)
      var ciEl = byTestId('ab-' + slot + '-ci')
      var okCi = Array.isArray(ci) && isNum(ci[0]) && isNum(ci[1])
      ciEl.setAttribute('data-lo', okCi ? String(ci[0]) : '')
      ciEl.setAttribute('data-hi', okCi ? String(ci[1]) : '')
      ciEl.textContent = okCi ? fmtPct(ci[0]) + ' – ' + fmtPct(ci[1]) : '—'
    })
    var prob = bayes.probBBeatsA
    show('ab-prob-b-beats-a', prob, isNum(prob) ? prob.toFixed(3) : '—')
    var meter = $('#ab-prob-meter')
    meter.style.width = isNum(prob) ? (prob * 100).toFixed(1) + '%' : '0'
    meter.className = 'meter-fill' + (isNum(prob) ? (prob >= 0.95 ? ' good' : prob <= 0.05 ? ' bad' : '') : '')
    drawCi(bayes.credibleIntervalA95, bayes.credibleIntervalB95, variants)
    var z = d.zTest || {}
    show('ab-z-pvalue', z.pValue, fmtP(z.pValue))
    show('ab-z-statistic', z.statistic)
    byTestId('ab-z-pvalue').classList.toggle('significant', isNum(z.pValue) && z.pValue < 0.05)
    var w = d.welch || {}
    show('ab-welch-pvalue', w.pValue, d.welch ? fmtP(w.pValue) : 'n/a')
    show('ab-welch-statistic', w.statistic)
    show('ab-welch-df', w.df)
    byTestId('ab-welch-pvalue').classList.toggle('significant', isNum(w.pValue) && w.pValue < 0.05)
    var errs = Array.isArray(d.errors) ? d.errors : []
    var ul = $('#ab-errors')
    ul.replaceChildren.apply(ul, errs.map(function (e) { return el('li', { 'data-testid': 'ab-error', text: String(e) }) }))
  }
  // The two 95% credible intervals on one axis (CSS boxes, no canvas).
  function drawCi(ciA, ciB, variants) {
    var box = $('#ab-ci-plot')
    var cis = [ciA, ciB].filter(function (c) { return Array.isArray(c) && isNum(c[0]) && isNum(c[1]) })
    if (!cis.length) {
      box.replaceChildren()
      return
    }
    var lo = Math.min.apply(null, cis.map(function (c) { return c[0] }))
    var hi = Math.max.apply(null, cis.map(function (c) { return c[1] }))
    var pad = (hi - lo) * 0.1 || 0.01
    lo = Math.max(0, lo - pad)
    hi = Math.min(1, hi + pad)
    function pos(x) { return ((x - lo) / (hi - lo)) * 100 }
    var rows = [['a', ciA, variants[0]], ['b', ciB, variants[1]]].map(function (x) {
      var c = x[1]
      if (!Array.isArray(c) || !isNum(c[0]) || !isNum(c[1])) return null
      var v = x[2] || {}
      var bar = el('div', { class: 'ci-bar variant-' + x[0] + '-bg' })
      bar.style.left = pos(c[0]) + '%'
      bar.style.width = Math.max(0.5, pos(c[1]) - pos(c[0])) + '%'
      var children = [bar]
      if (isNum(v.rate)) {
        var dot = el('div', { class: 'ci-dot' })
        dot.style.left = pos(v.rate) + '%'
        children.push(dot)
      }
      return el('div', { class: 'ci-row' }, [el('span', { class: 'ci-label variant-' + x[0], text: byTestId('ab-' + x[0] + '-name').textContent }), el('div', { class: 'ci-track' }, children)])
    })
    var axis = el('div', { class: 'ci-axis' }, [el('span', { text: fmtPct(lo) }), el('span', { text: '95% credible intervals' }), el('span', { text: fmtPct(hi) })])
    box.replaceChildren.apply(box, rows.filter(Boolean).concat([axis]))
  }
  abForm.addEventListener('submit', function (e) {
    e.preventDefault()
    refreshAb()
  })
  abForm.addEventListener('input', debounce(refreshAb, 400))

  // ---------- polling ----------

  var busy = false
  var lastPoll = 0
  function pollNow() {
    if (busy) return
    busy = true
    lastPoll = Date.now()
    // The cluster first: the chosen series' cluster numbers depend on what it says.
    Promise.all([refreshCluster().then(refreshSelected), refreshTop(), refreshAb()]).then(
      function () { busy = false },
      function () { busy = false },
    )
  }
  // Every 2 s while the stream is live; every 10 s while it is not (the server may be down,
  // and a failed fetch is a red line in the console).
  var started = false
  setInterval(function () {
    if (!started) return
    var every = hs.connection === 'live' ? POLL_MS : 5 * POLL_MS
    if (Date.now() - lastPoll >= every - 50) pollNow()
  }, 500)
  setInterval(function () { if (hs.connection === 'live') refreshSeriesList() }, SERIES_LIST_MS)
  setInterval(function () { if (hs.connection === 'live') refreshServer() }, SERVER_MS)

  // ---------- start ----------

  function selectFromHash() {
    var h = location.hash.replace(/^#/, '')
    if (!h) return Promise.resolve()
    var params = new URLSearchParams(h)
    if (params.get('scope') === 'cluster') hs.scope = 'cluster'
    var name = params.get('name')
    if (!name) return Promise.resolve()
    var tags = {}
    ;(params.get('tags') || '').split(',').forEach(function (kv) {
      if (!kv) return
      var i = kv.indexOf(':')
      tags[i < 0 ? kv : kv.slice(0, i)] = i < 0 ? '' : kv.slice(i + 1)
    })
    var want = keyOf({ name: name, tags: tags })
    // Only a series the server knows (no 404 for a stale link).
    return getJSON(API + '/series?limit=1000&match=' + encodeURIComponent(name)).then(function (r) {
      var found = r.ok && r.data && (r.data.series || []).filter(function (s) { return keyOf(s) === want })[0]
      if (found) select(found)
    })
  }

  connect()
  refreshSeriesList()
  // The first poll once the server's windows are known (the window menu comes from them).
  Promise.all([refreshServer(), selectFromHash()]).then(function () {
    started = true
    pollNow()
  })
})()
