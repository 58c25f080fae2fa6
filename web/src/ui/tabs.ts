/**
 * Tabs: buttons [role=tab] with data-tab naming the panel [data-panel] they show. The chosen
 * tab is kept in the URL's hash, so a link can open one; `onShow` hears which panel became
 * visible (views refresh only what is on screen).
 */
export function setUpTabs(bar: HTMLElement, onShow: (name: string) => void): (name: string) => void {
  const tabs = [...bar.querySelectorAll<HTMLButtonElement>('[role=tab]')];
  const panels = [...document.querySelectorAll<HTMLElement>('[data-panel]')];
  const show = (name: string) => {
    if (!tabs.some((t) => t.dataset.tab === name)) name = tabs[0].dataset.tab!;
    for (const t of tabs) t.setAttribute('aria-selected', String(t.dataset.tab === name));
    for (const p of panels) p.hidden = p.dataset.panel !== name;
    onShow(name);
  };
  for (const t of tabs) {
    t.addEventListener('click', () => {
      history.replaceState(null, '', `${location.pathname}${location.search}#${t.dataset.tab}`);
      show(t.dataset.tab!);
    });
  }
  show(location.hash.slice(1));
  return show;
}
