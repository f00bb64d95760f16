import { createElement, type ReactElement } from 'react';
import type { z } from 'zod';
import type { BroadcastContext } from './_components/broadcast-context.js';
import { ConfirmSubscription, ConfirmSubscriptionProps } from './confirm-subscription.js';
import { PreferencesLink, PreferencesLinkProps } from './preferences-link.js';
import { ReleaseAnnouncement, ReleaseAnnouncementProps } from './release-announcement.js';
import { UpdateAnnouncement, UpdateAnnouncementProps } from './update-announcement.js';
import { Welcome, WelcomeProps } from './welcome.js';

/**
 * Every email template quire knows, with the zod schema of its props and the example props it is
 * previewed with. Transactional templates are sent by the subscriber lifecycle; broadcast templates are
 * what the author announces with.
 */
export interface TemplateDefinition {
  name: string;
  kind: 'transactional' | 'broadcast';
  description: string;
  schema: z.ZodType<Record<string, unknown>>;
  previewProps: Record<string, unknown>;
  /** Broadcast templates also get the recipient slots, preheader and footer data (`ctx`). */
  element(props: Record<string, unknown>, ctx?: BroadcastContext): ReactElement;
}

/** A broadcast template: the author's props (validated by `schema`) plus the broadcast context. */
export const defineBroadcast = <S extends z.ZodType<Record<string, unknown>>>(
  name: string,
  description: string,
  schema: S,
  component: (props: z.output<S> & { ctx: BroadcastContext }) => ReactElement,
  previewProps: z.input<S>,
): TemplateDefinition => ({
  name,
  kind: 'broadcast',
  description,
  schema,
  previewProps: previewProps as Record<string, unknown>,
  element: (props, ctx) => {
    if (!ctx) throw new Error(`template ${name} needs a broadcast context`);
    return createElement(component as (p: Record<string, unknown>) => ReactElement, {
      ...(schema.parse(props) as Record<string, unknown>),
      ctx,
    });
  },
});

const define = <S extends z.ZodType<Record<string, unknown>>>(
  name: string,
  kind: TemplateDefinition['kind'],
  description: string,
  schema: S,
  component: (props: z.output<S>) => ReactElement,
  previewProps: z.input<S>,
): TemplateDefinition => ({
  name,
  kind,
  description,
  schema,
  previewProps: previewProps as Record<string, unknown>,
  element: (props) =>
    createElement(
      component as (p: Record<string, unknown>) => ReactElement,
      schema.parse(props) as Record<string, unknown>,
    ),
});

export const templates: Record<string, TemplateDefinition> = {
  'confirm-subscription': define(
    'confirm-subscription',
    'transactional',
    'Double opt-in: the link that confirms a signup.',
    ConfirmSubscriptionProps,
    ConfirmSubscription,
    ConfirmSubscription.PreviewProps,
  ),
  welcome: define(
    'welcome',
    'transactional',
    'Sent once a subscription is confirmed.',
    WelcomeProps,
    Welcome,
    Welcome.PreviewProps,
  ),
  'preferences-link': define(
    'preferences-link',
    'transactional',
    'A fresh link to the preference centre, asked for on the "manage my subscription" page.',
    PreferencesLinkProps,
    PreferencesLink,
    PreferencesLink.PreviewProps,
  ),
  'release-announcement': defineBroadcast(
    'release-announcement',
    'The book is available: title, cover, blurb and up to four buy/read buttons.',
    ReleaseAnnouncementProps,
    ReleaseAnnouncement,
    ReleaseAnnouncement.PreviewProps,
  ),
  'update-announcement': defineBroadcast(
    'update-announcement',
    'A new article or chapter update: title, short summary and one link.',
    UpdateAnnouncementProps,
    UpdateAnnouncement,
    UpdateAnnouncement.PreviewProps,
  ),
};

export const templateNames = () => Object.keys(templates);
