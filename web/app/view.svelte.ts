// Which screen the main area shows for the open project.
import { files } from '../files/files.svelte.ts';

export type Screen = 'files' | 'boot' | 'board' | 'testboot';

class ViewState {
  screen = $state<Screen>('files');

  show(screen: Screen): void {
    this.screen = screen;
    if (screen === 'files') files.show('entries');
    if (screen === 'boot') files.show('boot');
  }
}

export const view = new ViewState();
