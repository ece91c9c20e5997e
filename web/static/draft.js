// Live tag suggestions and personal-data warnings for the draft form. Progressive
// enhancement: the form works without it (the server renders the same on every save).
(function () {
  "use strict";
  const form = document.getElementById("draft-form");
  const assist = document.getElementById("assist");
  if (!form || !assist) return;
  const csrf = assist.dataset.csrf;
  const suggestions = document.getElementById("suggestions");
  const pii = document.getElementById("pii");
  let timer = null;
  let seq = 0;

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function render(data) {
    suggestions.replaceChildren();
    data.topics.forEach((t) => {
      const chip = el("button", { type: "button", class: "chip", "data-topic": t.code, title: t.triggers.join("、") }, t.name);
      suggestions.appendChild(chip);
    });
    if (!data.topics.length) suggestions.appendChild(el("p", { class: "muted" }, "暂无主题建议"));
    if (data.keywords.length) {
      const p = el("p", {}, "关键词：");
      p.appendChild(el("span", { id: "suggested-keywords" }, data.keywords.join("，")));
      suggestions.appendChild(p);
    }
    const aud = el("p", {}, "建议面向：");
    aud.appendChild(el("span", { id: "suggested-audience" }, data.audience_label));
    suggestions.appendChild(aud);
    pii.replaceChildren();
    data.pii.forEach((w) => pii.appendChild(el("li", { class: "pii-warning" }, w.field_label + "：" + w.message)));
    if (!data.pii.length) pii.appendChild(el("li", { class: "muted ok" }, "未发现个人信息"));
  }

  async function refresh() {
    const mine = ++seq;
    const body = JSON.stringify({ title: form.elements.title.value, body: form.elements.body.value });
    try {
      const response = await fetch("/console/suggest", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf }, body,
      });
      if (response.ok && mine === seq) render(await response.json());
    } catch (err) {
      // Offline or server restarting: the next save shows the same analysis.
    }
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 500);
  }

  // What the clerk has chosen, in words, and who would receive the policy as it stands.
  const chosen = document.getElementById("chosen");
  const audienceLive = document.getElementById("audience-live");
  const benefits = document.getElementById("benefits-field");
  let audienceTimer = null;
  let audienceSeq = 0;

  function checkedNames(name) {
    return Array.from(form.querySelectorAll('input[name="' + name + '"]:checked'))
      .map((box) => box.parentElement.textContent.trim());
  }

  function refreshChosen() {
    if (!chosen) return;
    const pick = (name) => chosen.querySelector('[data-chosen="' + name + '"]');
    const selected = (select) => select.options[select.selectedIndex].textContent.trim();
    pick("audience").textContent = selected(form.elements.audience);
    pick("kind").textContent = selected(form.elements.kind);
    pick("topics").textContent = checkedNames("topics").join("、") || "未选";
    pick("regions").textContent = checkedNames("regions").join("、") || "全县";
    pick("industries").textContent = checkedNames("industries").join("、") || "不限";
    pick("eligibility").textContent = checkedNames("eligibility").join("、") || "不限";
    if (benefits) benefits.hidden = form.elements.audience.value === "resident";
  }

  async function refreshAudience() {
    if (!audienceLive) return;
    const mine = ++audienceSeq;
    try {
      const response = await fetch("/console/audience-preview", {
        method: "POST", credentials: "same-origin", body: new FormData(form),
      });
      if (response.ok && mine === audienceSeq) audienceLive.innerHTML = await response.text();
    } catch (err) {
      // The preview before publishing shows the same figures.
    }
  }

  function choicesChanged() {
    refreshChosen();
    clearTimeout(audienceTimer);
    audienceTimer = setTimeout(refreshAudience, 400);
  }

  form.addEventListener("change", choicesChanged);
  form.elements.keywords.addEventListener("input", choicesChanged);
  refreshChosen();
  refreshAudience();

  form.elements.title.addEventListener("input", schedule);
  form.elements.body.addEventListener("input", schedule);
  suggestions.addEventListener("click", (event) => {
    const code = event.target.dataset && event.target.dataset.topic;
    if (!code) return;
    const box = form.querySelector('input[name="topics"][value="' + code + '"]');
    if (box) { box.checked = true; event.target.classList.add("applied"); choicesChanged(); }
  });
})();
