<?xml version="1.0" encoding="UTF-8"?>
<ColorCorrection id="night" xmlns="urn:ASC:CDL:v1.01">
  <SOPNode>
    <Slope>0.7 0.8 1.05</Slope>
    <Offset>-0.03 -0.01 0.02</Offset>
    <Power>1.25 1.15 1.0</Power>
  </SOPNode>
  <SATNode>
    <Saturation>0.6</Saturation>
  </SATNode>
</ColorCorrection>
