import { useState } from '@lynx-js/react';
import './App.css';

/** The page: a greeting, and a button that counts its taps. */
export function App() {
  const [taps, setTaps] = useState(0);
  return (
    <view className="app">
      <text className="title">Hello, world, from Lynx!</text>
      <view className="button" data-testid="tap" bindtap={() => setTaps((n) => n + 1)}>
        <text className="label">{`Tapped ${taps} times`}</text>
      </view>
    </view>
  );
}
