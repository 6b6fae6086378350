// Escalate and Transfer: actions that ask first (a reason, a colleague or team and a note),
// then call the REST API with the page's CSRF token, as every console action does.

import { api } from "./api.js";
import { fillSelect } from "./dom.js";

class ActionDialog {
  constructor(dialog) {
    this.dialog = dialog;
    this.form = dialog.querySelector("form");
    this.error = dialog.querySelector("[data-dialog-error]");
    this.submit = dialog.querySelector('button[type="submit"]');
    this.onSubmit = null;
    dialog.querySelector("[data-dialog-cancel]").addEventListener("click", () => dialog.close());
    this.form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!this.onSubmit || this.submit.disabled) return;
      this.submit.disabled = true;
      try {
        if (await this.onSubmit()) dialog.close();
      } finally {
        this.submit.disabled = false;
      }
    });
  }

  open(number, onSubmit) {
    this.onSubmit = onSubmit;
    this.form.reset();
    this.showError(null);
    for (const node of this.dialog.querySelectorAll("[data-dialog-number]")) node.textContent = `#${number}`;
    this.dialog.showModal();
  }

  showError(text) {
    this.error.textContent = text ?? "";
    this.error.hidden = !text;
  }
}

export class ActionDialogs {
  constructor(app) {
    this.app = app;
    const escalate = document.querySelector("[data-escalate-dialog]");
    const transfer = document.querySelector("[data-transfer-dialog]");
    this.escalateDialog = escalate ? new ActionDialog(escalate) : null;
    this.transferDialog = transfer ? new ActionDialog(transfer) : null;
  }

  get open() {
    return Boolean(this.escalateDialog?.dialog.open || this.transferDialog?.dialog.open);
  }

  escalate(conversation) {
    const dialog = this.escalateDialog;
    if (!dialog || this.open) return;
    const reason = dialog.form.elements.reason;
    const strings = this.app.strings;
    dialog.open(conversation.ticket.number, async () => {
      const text = reason.value.trim();
      if (!text) {
        dialog.showError(strings.reason_required);
        reason.focus();
        return false;
      }
      try {
        await api.post(`/api/v1/tickets/${conversation.id}/escalations`, { reason: text });
      } catch (error) {
        dialog.showError(conversation.errorText(error, strings.update_failed));
        return false;
      }
      this.app.toast(strings.escalated);
      conversation.loadEscalations();
      return true;
    });
    reason.focus();
  }

  transfer(conversation) {
    const dialog = this.transferDialog;
    if (!dialog || this.open) return;
    const { agent_id: agentSelect, team_id: teamSelect, note } = dialog.form.elements;
    const strings = this.app.strings;
    const roster = this.app.config.agents;
    // Plain agents do not get the roster: they hand over to a team.
    dialog.dialog.querySelector("[data-transfer-agent-field]").hidden = !roster;
    fillSelect(
      agentSelect,
      [["", strings.transfer_no_agent], ...(roster ?? []).filter((agent) => agent.id !== this.app.me.id).map((agent) => [agent.id, agent.name])],
      "",
    );
    fillSelect(
      teamSelect,
      [["", strings.transfer_same_team], ...this.app.config.teams.map((team) => [team.id, team.name])],
      "",
    );
    dialog.open(conversation.ticket.number, async () => {
      const agentId = agentSelect.value ? Number(agentSelect.value) : null;
      const teamId = teamSelect.value ? Number(teamSelect.value) : null;
      const text = note.value.trim();
      if (agentId === null && teamId === null) {
        dialog.showError(strings.transfer_target);
        (roster ? agentSelect : teamSelect).focus();
        return false;
      }
      if (!text) {
        dialog.showError(strings.note_required);
        note.focus();
        return false;
      }
      let ticket;
      try {
        ticket = await api.post(`/api/v1/tickets/${conversation.id}/transfer`, {
          agent_id: agentId,
          team_id: teamId,
          note: text,
        });
      } catch (error) {
        dialog.showError(conversation.errorText(error, strings.update_failed));
        return false;
      }
      const changes = conversation.fromApi(ticket);
      conversation.applyTicket({ ...changes, assignee_name: undefined });
      this.app.inbox.upsert({ ...changes, unread: undefined });
      this.app.toast(strings.transferred);
      return true;
    });
    (roster ? agentSelect : teamSelect).focus();
  }
}
