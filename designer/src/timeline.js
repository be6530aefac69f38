/**
 * A timeline entry said in the person's language: its kind picks the sentence
 * (locales/<lang>/timeline.json) and the feed's `params` fill it (crm/timeline_params.py), so the
 * stored data stays language-neutral. An entry without params (a comment, an automation's note,
 * or a kind this screen does not know) shows its text as it was written.
 */
import { t, formatDateTime, formatNumber } from './i18n.js';
import { taskTitle } from './labels.js';

const column = (code) => (code ? t(`tasks:column.${code}`, { defaultValue: code }) : t('timeline:empty'));
const group = (code) => t(`tasks:group.${code}`, { defaultValue: code });

function value(params, v) {
  if (v === null || v === undefined || v === '') return t('timeline:empty');
  if (typeof v === 'boolean') return t(v ? 'timeline:yes' : 'timeline:no');
  if (params.field === 'products' && Array.isArray(v)) return t('timeline:products_count', { count: v.length });
  if (params.type === 'datetime' || params.type === 'date') return formatDateTime(v);
  if (typeof v === 'number') return formatNumber(v);
  return String(v);
}

const SENTENCES = {
  created: (p) => t('timeline:created', p),
  stage_moved: (p) => {
    const text = t(p.same_pipeline ? 'timeline:stage_moved' : 'timeline:stage_moved_pipeline', p);
    return p.loss_reason ? t('timeline:loss_reason', { text, reason: p.loss_reason }) : text;
  },
  field_changed: (p) => t('timeline:field_changed', {
    label: p.core ? t(`timeline:field.${p.field}`, { defaultValue: p.field }) : p.label,
    old: value(p, p.old), new: value(p, p.new),
  }),
  task_created: (p) => {
    const task = taskTitle(p.task);
    if (p.assignee) return t('timeline:task_created_for', { task, assignee: p.assignee });
    if (p.group) return t('timeline:task_created_in', { task, group: group(p.group) });
    return t('timeline:task_created', { task });
  },
  task_assigned: (p) => (p.assignee
    ? t('timeline:task_assigned', { task: taskTitle(p.task), assignee: p.assignee })
    : t('timeline:task_unassigned', { task: taskTitle(p.task) })),
  task_scheduled: (p) => t('timeline:task_scheduled', { task: taskTitle(p.task), due: formatDateTime(p.due) }),
  task_moved: (p) => {
    const task = taskTitle(p.task);
    if (p.from_column === p.to_column) return t('timeline:task_noted', { task, column: column(p.to_column), note: p.note });
    const args = { task, from: column(p.from_column), to: column(p.to_column), note: p.note };
    return t(p.note ? 'timeline:task_moved_note' : 'timeline:task_moved', args);
  },
  task_completed: (p) => t('timeline:task_completed', { task: taskTitle(p.task) }),
  task_archived: (p) => t('timeline:task_archived', { task: taskTitle(p.task) }),
  notified: (p) => t('timeline:notified', p),
  copied_to: (p) => t('timeline:copied_to', p),
  copied_from: (p) => t('timeline:copied_from', p),
};

/** The sentence of a timeline feed item (`{kind, text, params}`) in the person's language. */
export function timelineText(item) {
  const sentence = SENTENCES[item.kind];
  if (!sentence || !item.params) return item.text;
  try {
    return sentence(item.params);
  } catch {
    return item.text;
  }
}
